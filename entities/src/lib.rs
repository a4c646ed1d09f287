//! Tessera's sea-orm entities (one module per table, see ADR 0001) and typed ids. No logic.

pub mod id;
pub use id::*;

pub mod api_key;
pub mod audit_event;
pub mod client;
pub mod connection;
pub mod consent;
pub mod domain;
pub mod identity;
pub mod instance_admin;
pub mod membership;
pub mod org_branding;
pub mod organization;
pub mod passkey;
pub mod password_credential;
pub mod recovery_code;
pub mod refresh_token;
pub mod role_mapping;
pub mod scim_count;
pub mod scim_group;
pub mod scim_group_member;
pub mod scim_token;
pub mod scim_user;
pub mod scim_value;
pub mod session;
pub mod session_client;
pub mod setup_link;
pub mod signing_key;
pub mod totp_secret;
pub mod user;

pub use api_key::ApiKeyOwner;
pub use client::ClientType;
pub use connection::{ConnectionKind, ConnectionStatus};
pub use domain::VerificationMethod;
pub use membership::{MembershipSource, MembershipStatus};
pub use signing_key::{KeyState, SigningAlg};
pub use user::UserStatus;

pub mod prelude {
    //! Every entity under its table's singular name, as sea-orm-codegen's prelude does.

    pub use super::api_key::Entity as ApiKey;
    pub use super::audit_event::Entity as AuditEvent;
    pub use super::client::Entity as Client;
    pub use super::connection::Entity as Connection;
    pub use super::consent::Entity as Consent;
    pub use super::domain::Entity as Domain;
    pub use super::identity::Entity as Identity;
    pub use super::instance_admin::Entity as InstanceAdmin;
    pub use super::membership::Entity as Membership;
    pub use super::org_branding::Entity as OrgBranding;
    pub use super::organization::Entity as Organization;
    pub use super::passkey::Entity as Passkey;
    pub use super::password_credential::Entity as PasswordCredential;
    pub use super::recovery_code::Entity as RecoveryCode;
    pub use super::refresh_token::Entity as RefreshToken;
    pub use super::role_mapping::Entity as RoleMapping;
    pub use super::scim_count::Entity as ScimCount;
    pub use super::scim_group::Entity as ScimGroup;
    pub use super::scim_group_member::Entity as ScimGroupMember;
    pub use super::scim_token::Entity as ScimToken;
    pub use super::scim_user::Entity as ScimUser;
    pub use super::scim_value::Entity as ScimValue;
    pub use super::session::Entity as Session;
    pub use super::session_client::Entity as SessionClient;
    pub use super::setup_link::Entity as SetupLink;
    pub use super::signing_key::Entity as SigningKey;
    pub use super::totp_secret::Entity as TotpSecret;
    pub use super::user::Entity as User;
}
