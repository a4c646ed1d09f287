//! Per-organization branding of the sign-in pages: a display name, an accent colour (checked
//! for readable white text on it, WCAG AA) and a logo (PNG, JPEG or WebP, sniffed from its
//! bytes, at most 256 KiB). The sign-in page shows it when the app's request belongs to the
//! organization (the app asked for it with `organization=`, or is restricted to it).

use chrono::{DateTime, Utc};
use entities::{OrgId, org_branding, organization};
use sea_orm::{ActiveValue::Set, EntityTrait, sea_query::OnConflict};
use serde_json::json;

use crate::Broker;
use crate::audit::{AuditAction, Target};
use crate::error::{Error, ErrorCode, Result};
use crate::org::OrgAccess;
use crate::store::EphemeralStoreExt as _;
use crate::validate;

/// The largest logo accepted.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// An organization's branding as stored.
pub type BrandingRow = org_branding::Model;

/// An organization's branding, without the logo's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Branding {
    /// Shown instead of the organization's name.
    pub display_name: Option<String>,
    /// Accent colour, `#rrggbb`.
    pub color: Option<String>,
    /// The logo's media type, when there is a logo.
    pub logo_type: Option<String>,
    /// When it last changed (versions the logo's URL).
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<BrandingRow> for Branding {
    fn from(row: BrandingRow) -> Self {
        Self {
            display_name: row.display_name,
            color: row.color,
            logo_type: row.logo.as_ref().and(row.logo_type),
            updated_at: Some(row.updated_at),
        }
    }
}

/// The name and colour to set (the logo has its own calls); `None` clears a field.
#[derive(Debug, Clone, Default)]
pub struct BrandingSettings {
    /// Display name on sign-in pages.
    pub display_name: Option<String>,
    /// Accent colour, `#rrggbb`.
    pub color: Option<String>,
}

/// What a sign-in page shows for an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInBranding {
    /// The organization.
    pub org_id: OrgId,
    /// Its display name (or its name).
    pub name: String,
    /// Its accent colour, if set.
    pub color: Option<String>,
    /// Its logo's version (the URL's query), if it has one.
    pub logo_version: Option<i64>,
}

/// `#rrggbb` (lower-cased) on which white text reaches 4.5:1 contrast (WCAG 2.1 AA), since
/// buttons put white text on the accent colour.
pub fn brand_color(raw: &str) -> Result<String> {
    let fail = |why: &str| Error::invalid(ErrorCode::InvalidBrandColor, "color", why.to_owned());
    let hex = raw
        .trim()
        .strip_prefix('#')
        .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| fail("color must be #rrggbb, such as #0b5394"))?;
    let channel = |i: usize| {
        let value = u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_default();
        let c = f64::from(value) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    let contrast = 1.05 / (luminance + 0.05);
    if contrast < 4.5 {
        return Err(fail(&format!(
            "white text on {raw} has a contrast of {contrast:.1}:1; pick a darker colour (at least 4.5:1)"
        )));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// The media type of a logo, from its first bytes: PNG, JPEG or WebP only (SVG can carry
/// scripts; other formats are rarely logos).
pub fn logo_type(bytes: &[u8]) -> Result<&'static str> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("a logo may be at most {} KiB", MAX_LOGO_BYTES / 1024),
        ));
    }
    let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return Err(Error::new(
            ErrorCode::InvalidLogo,
            "the logo must be a PNG, JPEG or WebP image",
        ));
    };
    Ok(kind)
}

fn no_logo() -> Error {
    Error::new(ErrorCode::LogoNotFound, "the organization has no logo")
}

impl Broker {
    async fn branding_row(&self, org: OrgId) -> Result<Option<BrandingRow>> {
        Ok(org_branding::Entity::find_by_id(org).one(self.db()).await?)
    }

    /// The organization's branding (empty when never set).
    pub async fn get_branding(&self, access: &OrgAccess) -> Result<Branding> {
        Ok(self
            .branding_row(access.org_id())
            .await?
            .map(Branding::from)
            .unwrap_or_default())
    }

    /// Sets the display name and colour (the logo stays).
    pub async fn set_branding(
        &self,
        access: &OrgAccess,
        settings: BrandingSettings,
    ) -> Result<Branding> {
        let display_name = settings
            .display_name
            .as_deref()
            .map(|n| validate::name("display_name", n))
            .transpose()?;
        let color = settings.color.as_deref().map(brand_color).transpose()?;
        let data = json!({ "display_name": display_name, "color": color });
        self.write_branding(access, data, |row| {
            row.display_name = Set(display_name.clone());
            row.color = Set(color.clone());
        })
        .await
    }

    /// Replaces the logo with `bytes` (its type is read from them).
    pub async fn set_logo(&self, access: &OrgAccess, bytes: Vec<u8>) -> Result<Branding> {
        let kind = logo_type(&bytes)?;
        let data = json!({ "logo": kind, "bytes": bytes.len() });
        self.write_branding(access, data, |row| {
            row.logo = Set(Some(bytes.clone()));
            row.logo_type = Set(Some(kind.to_owned()));
        })
        .await
    }

    /// Removes the logo.
    pub async fn remove_logo(&self, access: &OrgAccess) -> Result<Branding> {
        self.write_branding(access, json!({ "logo": null }), |row| {
            row.logo = Set(None);
            row.logo_type = Set(None);
        })
        .await
    }

    /// Upserts the org's branding row with `change` applied, audited with `data`.
    async fn write_branding(
        &self,
        access: &OrgAccess,
        data: serde_json::Value,
        change: impl Fn(&mut org_branding::ActiveModel),
    ) -> Result<Branding> {
        let now = self.now();
        let txn = self.begin_write().await?;
        let current = org_branding::Entity::find_by_id(access.org_id())
            .one(&txn)
            .await?;
        let row = current.unwrap_or(BrandingRow {
            org_id: access.org_id(),
            display_name: None,
            color: None,
            logo: None,
            logo_type: None,
            updated_at: now,
        });
        let mut model = org_branding::ActiveModel {
            org_id: Set(row.org_id),
            display_name: Set(row.display_name),
            color: Set(row.color),
            logo: Set(row.logo),
            logo_type: Set(row.logo_type),
            updated_at: Set(now),
        };
        change(&mut model);
        org_branding::Entity::insert(model)
            .on_conflict(
                OnConflict::column(org_branding::Column::OrgId)
                    .update_columns([
                        org_branding::Column::DisplayName,
                        org_branding::Column::Color,
                        org_branding::Column::Logo,
                        org_branding::Column::LogoType,
                        org_branding::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        access
            .audit(
                &txn,
                now,
                AuditAction::BrandingUpdated,
                Target::new("organization", access.org_id()),
                data,
            )
            .await?;
        txn.commit().await?;
        self.get_branding(access).await
    }

    /// An organization's logo and its media type (public: sign-in pages show it).
    pub async fn logo(&self, org: OrgId) -> Result<(Vec<u8>, String)> {
        let row = self.branding_row(org).await?.ok_or_else(no_logo)?;
        match (row.logo, row.logo_type) {
            (Some(bytes), Some(kind)) => Ok((bytes, kind)),
            _ => Err(no_logo()),
        }
    }

    /// The branding for a sign-in page that will return to `return_to`: the organization of
    /// the app's waiting authorization request (the one it asked for, or the one the app is
    /// restricted to), if any.
    pub async fn sign_in_branding(&self, return_to: &str) -> Result<Option<SignInBranding>> {
        let Some(org) = self.sign_in_org(return_to).await? else {
            return Ok(None);
        };
        let Some(found) = organization::Entity::find_by_id(org).one(self.db()).await? else {
            return Ok(None);
        };
        let row = self.branding_row(org).await?;
        let name = row
            .as_ref()
            .and_then(|r| r.display_name.clone())
            .unwrap_or(found.name);
        Ok(Some(SignInBranding {
            org_id: org,
            name,
            color: row.as_ref().and_then(|r| r.color.clone()),
            logo_version: row
                .as_ref()
                .filter(|r| r.logo.is_some())
                .map(|r| r.updated_at.timestamp()),
        }))
    }

    async fn sign_in_org(&self, return_to: &str) -> Result<Option<OrgId>> {
        let Some(query) = return_to.strip_prefix("/oauth2/authorize/resume?") else {
            return Ok(None);
        };
        let Some(transaction) = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "transaction")
            .map(|(_, v)| v.into_owned())
        else {
            return Ok(None);
        };
        let key = crate::provider::authorize::transaction_key(&transaction);
        let request: Option<crate::provider::authorize::AuthorizationRequest> =
            self.store().get_json(&key).await?;
        let Some(request) = request else {
            return Ok(None);
        };
        if request.organization.is_some() {
            return Ok(request.organization);
        }
        Ok(self
            .find_client(&request.client_id.to_string())
            .await?
            .and_then(|c| c.org_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_colours_need_readable_white_text() {
        // #767676 is the lightest grey with 4.5:1 against white; #777777 falls just short.
        assert_eq!(brand_color("#767676").unwrap(), "#767676");
        assert_eq!(brand_color(" #0B5394 ").unwrap(), "#0b5394");
        for unreadable in ["#777777", "#ffd400", "#ffffff", "#3ddc84"] {
            let err = brand_color(unreadable).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidBrandColor, "{unreadable}");
            assert_eq!(err.field(), Some("color"));
        }
        for malformed in ["", "#fff", "0b5394", "#0b539g", "#0b53944", "red"] {
            assert!(brand_color(malformed).is_err(), "{malformed}");
        }
    }

    #[test]
    fn logos_are_recognised_by_their_bytes_not_their_name() {
        assert_eq!(logo_type(b"\x89PNG\r\n\x1a\n....").unwrap(), "image/png");
        assert_eq!(logo_type(&[0xff, 0xd8, 0xff, 0xe0]).unwrap(), "image/jpeg");
        assert_eq!(logo_type(b"RIFF\x10\0\0\0WEBPVP8 ").unwrap(), "image/webp");
        for refused in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"GIF89a",
            b"",
            b"RIFF\x10\0\0\0WAVE",
        ] {
            assert_eq!(
                logo_type(refused).unwrap_err().code(),
                ErrorCode::InvalidLogo
            );
        }
        let huge = vec![0u8; MAX_LOGO_BYTES + 1];
        assert_eq!(
            logo_type(&huge).unwrap_err().code(),
            ErrorCode::PayloadTooLarge
        );
    }
}
