//! Typed ids: one newtype per table so ids of different kinds cannot be mixed up.

/// Declares a UUID newtype usable as a sea-orm column and primary key.
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sea_orm::DeriveValueType,
        )]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh id; UUIDv7, so ids sort by creation time.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }
    };
}

typed_id!(
    /// An organization (tenant).
    OrgId
);
typed_id!(
    /// A domain claimed by an organization.
    DomainId
);
typed_id!(
    /// A person; global, may belong to several organizations.
    UserId
);
typed_id!(
    /// A user's membership in one organization.
    MembershipId
);
typed_id!(
    /// An upstream identity (connection + subject) linked to a user.
    IdentityId
);
typed_id!(
    /// An org's (or the instance's) upstream IdP connection.
    ConnectionId
);
typed_id!(
    /// A WebAuthn credential.
    PasskeyId
);
typed_id!(
    /// A single-use recovery code.
    RecoveryCodeId
);
typed_id!(
    /// A browser session.
    SessionId
);
typed_id!(
    /// An app (OIDC client); its string form is the public `client_id`.
    ClientId
);
typed_id!(
    /// A refresh token.
    RefreshTokenId
);
typed_id!(
    /// A refresh-token family (all rotations of one grant).
    TokenFamilyId
);
typed_id!(
    /// An API key.
    ApiKeyId
);
typed_id!(
    /// A SCIM bearer token.
    ScimTokenId
);
typed_id!(
    /// A SCIM group.
    ScimGroupId
);
typed_id!(
    /// A token-signing key.
    SigningKeyId
);
typed_id!(
    /// An audit event.
    AuditEventId
);
typed_id!(
    /// A time-limited setup link for an org's IT team.
    SetupLinkId
);
typed_id!(
    /// A SCIM User resource (one per user per organization directory).
    ScimUserId
);
