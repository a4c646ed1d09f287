//! Domains an organization claims, and proof of ownership through a DNS TXT record (or an
//! instance admin's manual override). A verified domain belongs to exactly one organization.

use entities::domain::{self, VerificationMethod};
use entities::{DomainId, OrgId};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    Order, QueryFilter,
};
use serde_json::json;

use crate::Broker;
use crate::audit::{AuditAction, Target};
use crate::crypto::random_token;
use crate::error::{Error, ErrorCode, Result, gone_or, is_unique_violation, unique_or};
use crate::org::OrgAccess;
use crate::page::{self, Page, PageRequest};
use crate::rate_limit::DNS_CHECKS_PER_ORG;
use crate::validate;

/// A domain as stored.
pub type Domain = domain::Model;

/// The label under the domain where the verification record is published.
pub const TXT_RECORD_LABEL: &str = "_tessera-challenge";
/// The prefix of the verification record's value.
pub const TXT_VALUE_PREFIX: &str = "tessera-domain-verification=";

/// The DNS TXT record that proves an organization controls a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtRecord {
    /// Where to publish it (`_tessera-challenge.example.com`).
    pub name: String,
    /// What to publish (`tessera-domain-verification=…`).
    pub value: String,
}

/// The record to publish for `domain`.
pub fn txt_record(domain: &Domain) -> TxtRecord {
    TxtRecord {
        name: format!("{TXT_RECORD_LABEL}.{}", domain.domain),
        value: format!("{TXT_VALUE_PREFIX}{}", domain.verification_token),
    }
}

/// How the domain was verified (`dns_txt`, `manual`), as stored.
pub fn verification_method_name(domain: &Domain) -> Option<String> {
    domain
        .verification_method
        .as_ref()
        .map(ActiveEnum::to_value)
}

fn not_found(name: &str) -> Error {
    Error::new(
        ErrorCode::DomainNotFound,
        format!("the organization has no domain '{name}'"),
    )
}

fn owned_elsewhere(name: &str) -> Error {
    Error::invalid(
        ErrorCode::DomainOwnedByOtherOrg,
        "domain",
        format!("'{name}' is verified by another organization"),
    )
}

async fn verified_owner(db: &impl ConnectionTrait, name: &str) -> Result<Option<OrgId>> {
    Ok(domain::Entity::find()
        .filter(domain::Column::Domain.eq(name))
        .filter(domain::Column::Verified.eq(true))
        .one(db)
        .await?
        .map(|d| d.org_id))
}

async fn find_in_org(db: &impl ConnectionTrait, org: OrgId, name: &str) -> Result<Option<Domain>> {
    Ok(domain::Entity::find()
        .filter(domain::Column::OrgId.eq(org))
        .filter(domain::Column::Domain.eq(name))
        .one(db)
        .await?)
}

/// Whether `email` (normalized) is at one of the organization's verified domains or a
/// subdomain of one: the organization controls that namespace.
pub(crate) async fn org_owns_email(
    db: &impl ConnectionTrait,
    org: OrgId,
    email: &str,
) -> Result<bool> {
    match email.rsplit_once('@') {
        Some((_, host)) => org_owns_host(db, org, host).await,
        None => Ok(false),
    }
}

/// Whether `host` is one of the organization's verified domains or a subdomain of one.
pub(crate) async fn org_owns_host(
    db: &impl ConnectionTrait,
    org: OrgId,
    host: &str,
) -> Result<bool> {
    let verified = domain::Entity::find()
        .filter(domain::Column::OrgId.eq(org))
        .filter(domain::Column::Verified.eq(true))
        .all(db)
        .await?;
    Ok(verified.iter().any(|d| {
        host == d.domain
            || host
                .strip_suffix(d.domain.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    }))
}

/// Normalizes a domain from a path or body so `Example.COM` finds `example.com`; anything
/// that cannot be a domain simply is not found.
fn normalize_or_not_found(raw: &str) -> Result<String> {
    validate::domain("domain", raw).map_err(|_| not_found(raw))
}

impl Broker {
    /// Claims `domain` for the organization. It stays unverified until the TXT record is found.
    pub async fn add_domain(&self, access: &OrgAccess, domain: &str) -> Result<Domain> {
        let name = validate::domain("domain", domain)?;
        let now = self.now();
        let txn = self.begin_write().await?;
        if find_in_org(&txn, access.org_id(), &name).await?.is_some() {
            return Err(Error::invalid(
                ErrorCode::DomainAlreadyAdded,
                "domain",
                format!("the organization already has '{name}'"),
            ));
        }
        if verified_owner(&txn, &name).await?.is_some() {
            return Err(owned_elsewhere(&name));
        }
        let added = domain::ActiveModel {
            id: Set(DomainId::new()),
            org_id: Set(access.org_id()),
            domain: Set(name.clone()),
            verified: Set(false),
            verification_token: Set(random_token::<24>()),
            verification_method: Set(None),
            verified_at: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            unique_or(e, || {
                Error::invalid(
                    ErrorCode::DomainAlreadyAdded,
                    "domain",
                    format!("the organization already has '{name}'"),
                )
            })
        })?;
        access
            .audit(
                &txn,
                now,
                AuditAction::DomainAdded,
                Target::new("domain", &added.domain),
                json!({ "domain": added.domain }),
            )
            .await?;
        txn.commit().await?;
        Ok(added)
    }

    /// Lists the organization's domains, oldest first.
    pub async fn list_domains(
        &self,
        access: &OrgAccess,
        request: &PageRequest,
    ) -> Result<Page<Domain>> {
        let select = domain::Entity::find().filter(domain::Column::OrgId.eq(access.org_id()));
        page::fetch(
            self.db(),
            select,
            domain::Column::Id,
            Order::Asc,
            request,
            |d| d.id.as_uuid(),
        )
        .await
    }

    /// One of the organization's domains.
    pub async fn get_domain(&self, access: &OrgAccess, domain: &str) -> Result<Domain> {
        let name = normalize_or_not_found(domain)?;
        find_in_org(self.db(), access.org_id(), &name)
            .await?
            .ok_or_else(|| not_found(&name))
    }

    /// Verifies ownership by looking up the TXT record; with `force`, an instance admin marks
    /// the domain verified without DNS. Verifying an already verified domain changes nothing.
    pub async fn verify_domain(
        &self,
        access: &OrgAccess,
        domain: &str,
        force: bool,
    ) -> Result<Domain> {
        if force {
            crate::org::require_instance_admin(access.actor())
                .map_err(|e| e.with_field("force"))?;
        }
        let claimed = self.get_domain(access, domain).await?;
        if claimed.verified {
            return Ok(claimed);
        }
        if let Some(owner) = verified_owner(self.db(), &claimed.domain).await?
            && owner != access.org_id()
        {
            return Err(owned_elsewhere(&claimed.domain));
        }
        let method = if force {
            VerificationMethod::Manual
        } else {
            self.count_against(DNS_CHECKS_PER_ORG, &access.org_id().to_string())
                .await?;
            self.check_txt_record(access, &claimed).await?;
            VerificationMethod::DnsTxt
        };
        self.mark_verified(access, claimed, method).await
    }

    /// Looks for the verification record; records a failed attempt in the audit log.
    async fn check_txt_record(&self, access: &OrgAccess, claimed: &Domain) -> Result<()> {
        let expected = txt_record(claimed);
        let found = self.dns().txt(&expected.name).await.map_err(|e| {
            Error::new(
                ErrorCode::DnsUnavailable,
                format!("could not look up {}: try again later", expected.name),
            )
            .with_cause(e)
        })?;
        if found.iter().any(|value| value.trim() == expected.value) {
            return Ok(());
        }
        access
            .audit(
                self.db(),
                self.now(),
                AuditAction::DomainVerificationFailed,
                Target::new("domain", &claimed.domain),
                json!({ "record": expected.name, "found": found.len() }),
            )
            .await?;
        Err(Error::invalid(
            ErrorCode::DomainVerificationFailed,
            "domain",
            format!(
                "no TXT record '{}' with value '{}' was found; publish it and try again \
                 (DNS changes can take a few minutes to appear)",
                expected.name, expected.value
            ),
        ))
    }

    async fn mark_verified(
        &self,
        access: &OrgAccess,
        claimed: Domain,
        method: VerificationMethod,
    ) -> Result<Domain> {
        let now = self.now();
        let name = claimed.domain.clone();
        let txn = self.begin_write().await?;
        let mut model: domain::ActiveModel = claimed.into();
        model.verified = Set(true);
        model.verification_method = Set(Some(method));
        model.verified_at = Set(Some(now));
        // The partial unique index on verified domains settles a race between two orgs.
        let verified = model.update(&txn).await.map_err(|e| {
            if is_unique_violation(&e) {
                owned_elsewhere(&name)
            } else {
                gone_or(e, || not_found(&name))
            }
        })?;
        access
            .audit(
                &txn,
                now,
                AuditAction::DomainVerified,
                Target::new("domain", &verified.domain),
                json!({ "method": method }),
            )
            .await?;
        txn.commit().await?;
        Ok(verified)
    }

    /// Removes a domain from the organization.
    pub async fn remove_domain(&self, access: &OrgAccess, domain: &str) -> Result<()> {
        let claimed = self.get_domain(access, domain).await?;
        let now = self.now();
        let txn = self.begin_write().await?;
        let deleted = domain::Entity::delete_many()
            .filter(domain::Column::Id.eq(claimed.id))
            .filter(domain::Column::OrgId.eq(access.org_id()))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(not_found(&claimed.domain));
        }
        access
            .audit(
                &txn,
                now,
                AuditAction::DomainRemoved,
                Target::new("domain", &claimed.domain),
                json!({ "was_verified": claimed.verified }),
            )
            .await?;
        txn.commit().await?;
        Ok(())
    }
}
