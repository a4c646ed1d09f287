//! Organizations (tenants): create, list, read, rename, delete; and [`OrgAccess`], the proof
//! that a caller may act inside one organization, which every org-scoped operation requires.

use entities::{OrgId, organization};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter,
};
use serde_json::json;

use crate::Broker;
use crate::actor::{Actor, Scope};
use crate::audit::{self, AuditAction, Entry, Target};
use crate::error::{Error, ErrorCode, Result, gone_or, is_unique_violation, unique_or};
use crate::page::{self, Page, PageRequest};
use crate::validate;

/// An organization as stored.
pub type Organization = organization::Model;

/// What is needed to create an organization.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// Display name.
    pub name: String,
    /// URL-safe unique handle.
    pub slug: String,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganizationChanges {
    /// New display name.
    pub name: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// Require the org's SSO connection for its verified domains.
    pub require_sso: Option<bool>,
}

/// Proof that an actor may act inside one organization. Only the broker creates it (after
/// checking the actor's scope), and every org-scoped operation takes it, so no handler can
/// forget the tenant check.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    org: Organization,
    actor: Actor,
}

impl OrgAccess {
    /// The organization.
    pub fn org(&self) -> &Organization {
        &self.org
    }

    /// The organization's id.
    pub fn org_id(&self) -> OrgId {
        self.org.id
    }

    /// Who is acting.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

fn not_found(key: &str) -> Error {
    Error::new(
        ErrorCode::OrganizationNotFound,
        format!("no organization '{key}'"),
    )
}

fn slug_taken(slug: &str) -> Error {
    Error::invalid(
        ErrorCode::SlugTaken,
        "slug",
        format!("slug '{slug}' is already used by another organization"),
    )
}

pub(crate) fn require_instance_admin(actor: &Actor) -> Result<()> {
    if actor.is_instance_admin() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InstanceAdminRequired,
            "this needs an instance-admin API key",
        ))
    }
}

/// Finds an organization by id or slug, without any visibility check.
pub(crate) async fn find_by_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<Organization>> {
    let by = match key.parse::<OrgId>() {
        Ok(id) => organization::Column::Id.eq(id),
        Err(_) => organization::Column::Slug.eq(key),
    };
    Ok(organization::Entity::find().filter(by).one(db).await?)
}

async fn ensure_slug_free(
    db: &impl ConnectionTrait,
    slug: &str,
    except: Option<OrgId>,
) -> Result<()> {
    let existing = organization::Entity::find()
        .filter(organization::Column::Slug.eq(slug))
        .one(db)
        .await?;
    match existing {
        Some(org) if Some(org.id) != except => Err(slug_taken(slug)),
        _ => Ok(()),
    }
}

impl Broker {
    /// Creates an organization (instance admins only).
    pub async fn create_organization(
        &self,
        actor: &Actor,
        new: NewOrganization,
    ) -> Result<Organization> {
        require_instance_admin(actor)?;
        let name = validate::name("name", &new.name)?;
        let slug = validate::slug("slug", &new.slug)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        ensure_slug_free(&txn, &slug, None).await?;
        let org = organization::ActiveModel {
            id: Set(OrgId::new()),
            slug: Set(slug.clone()),
            name: Set(name),
            require_sso: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| unique_or(e, || slug_taken(&slug)))?;
        audit::record(
            &txn,
            now,
            Entry {
                actor,
                org: Some(org.id),
                action: AuditAction::OrganizationCreated,
                target: Target::new("organization", org.id),
                data: json!({ "name": org.name, "slug": org.slug }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(org)
    }

    /// Lists the organizations the actor can see, oldest first.
    pub async fn list_organizations(
        &self,
        actor: &Actor,
        request: &PageRequest,
    ) -> Result<Page<Organization>> {
        let mut select = organization::Entity::find();
        if let Scope::Org(own) = actor.scope {
            select = select.filter(organization::Column::Id.eq(own));
        }
        page::fetch(
            self.db(),
            select,
            organization::Column::Id,
            Order::Asc,
            request,
            |o| o.id.as_uuid(),
        )
        .await
    }

    /// Resolves `key` (id or slug) to an organization the actor may act in. Organizations
    /// outside the actor's scope are reported as not found, never as forbidden.
    pub async fn access_organization(&self, actor: Actor, key: &str) -> Result<OrgAccess> {
        match find_by_key(self.db(), key).await? {
            Some(org) if actor.can_access(org.id) => Ok(OrgAccess { org, actor }),
            _ => Err(not_found(key)),
        }
    }

    /// Renames an organization or changes its slug. The slug is an identifier scripts and
    /// apps rely on, so only instance admins may change it. Changing nothing writes nothing.
    pub async fn update_organization(
        &self,
        access: &OrgAccess,
        changes: OrganizationChanges,
    ) -> Result<Organization> {
        if changes.slug.is_some() {
            require_instance_admin(access.actor()).map_err(|e| e.with_field("slug"))?;
        }
        let name = changes
            .name
            .as_deref()
            .map(|n| validate::name("name", n))
            .transpose()?;
        let slug = changes
            .slug
            .as_deref()
            .map(|s| validate::slug("slug", s))
            .transpose()?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let current = organization::Entity::find_by_id(access.org_id())
            .one(&txn)
            .await?
            .ok_or_else(|| not_found(&access.org().slug))?;
        let unchanged = name.as_ref().is_none_or(|n| *n == current.name)
            && slug.as_ref().is_none_or(|s| *s == current.slug)
            && changes.require_sso.is_none_or(|r| r == current.require_sso);
        if unchanged {
            return Ok(current);
        }
        if let Some(slug) = &slug {
            ensure_slug_free(&txn, slug, Some(current.id)).await?;
        }
        let before = json!({ "name": current.name, "slug": current.slug, "require_sso": current.require_sso });
        let mut model: organization::ActiveModel = current.into();
        if let Some(name) = name {
            model.name = Set(name);
        }
        if let Some(slug) = slug.clone() {
            model.slug = Set(slug);
        }
        if let Some(require) = changes.require_sso {
            model.require_sso = Set(require);
        }
        model.updated_at = Set(now);
        let org = model.update(&txn).await.map_err(|e| {
            if is_unique_violation(&e) {
                slug_taken(slug.as_deref().unwrap_or_default())
            } else {
                gone_or(e, || not_found(&access.org().slug))
            }
        })?;
        access
            .audit(
                &txn,
                now,
                AuditAction::OrganizationUpdated,
                Target::new("organization", org.id),
                json!({ "before": before, "after": { "name": org.name, "slug": org.slug, "require_sso": org.require_sso } }),
            )
            .await?;
        txn.commit().await?;
        Ok(org)
    }

    /// Deletes an organization and everything it owns (instance admins only).
    pub async fn delete_organization(&self, access: &OrgAccess) -> Result<()> {
        require_instance_admin(access.actor())?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let deleted = organization::Entity::delete_by_id(access.org_id())
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(not_found(&access.org().slug));
        }
        access
            .audit(
                &txn,
                now,
                AuditAction::OrganizationDeleted,
                Target::new("organization", access.org_id()),
                json!({ "name": access.org().name, "slug": access.org().slug }),
            )
            .await?;
        txn.commit().await?;
        Ok(())
    }
}
