//! Schema and message URNs of RFC 7643/7644, and the attribute definitions of the resources
//! Tessera serves (core User with the enterprise extension, core Group): what `/Schemas`
//! publishes, what requests are checked against, and what filters and PATCH paths resolve to.

use serde_json::{Value, json};

/// The core User resource (RFC 7643 §4.1).
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group resource (RFC 7643 §4.2).
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// A list response (RFC 7644 §3.4.2).
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// A PATCH request (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// A search request sent with POST /.search (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// An error response (RFC 7644 §3.12).
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The service provider configuration (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// A resource type description (RFC 7643 §6).
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// A schema description (RFC 7643 §7).
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// `string`
    String,
    /// `boolean`
    Boolean,
    /// `decimal`
    Decimal,
    /// `integer`
    Integer,
    /// `dateTime` (xsd:dateTime, RFC 3339 in JSON)
    DateTime,
    /// `binary` (base64)
    Binary,
    /// `reference` (a URI)
    Reference,
    /// `complex` (has sub-attributes)
    Complex,
}

impl AttrType {
    fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// Whether and how an attribute may be written (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Written by clients.
    ReadWrite,
    /// Written once, at creation or when unset.
    Immutable,
    /// Written, never returned.
    WriteOnly,
}

/// When an attribute is returned (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Always, even when excluded.
    Always,
    /// Never.
    Never,
    /// Unless excluded.
    Default,
    /// Only when asked for.
    Request,
}

/// One attribute of a schema.
#[derive(Debug, Clone, Copy)]
pub struct AttributeDef {
    /// The name, in its canonical case.
    pub name: &'static str,
    /// The data type.
    pub kind: AttrType,
    /// Whether the attribute holds a list.
    pub multi_valued: bool,
    /// Whether a resource must have it.
    pub required: bool,
    /// Whether string comparisons respect case.
    pub case_exact: bool,
    /// Who may write it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// `server` when unique within the org's directory.
    pub unique: bool,
    /// Suggested values (`type` of emails…).
    pub canonical_values: &'static [&'static str],
    /// What a reference may point to.
    pub reference_types: &'static [&'static str],
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: &'static [AttributeDef],
    /// For humans.
    pub description: &'static str,
}

const fn attr(name: &'static str, kind: AttrType, description: &'static str) -> AttributeDef {
    AttributeDef {
        name,
        kind,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        canonical_values: &[],
        reference_types: &[],
        sub_attributes: &[],
        description,
    }
}

const fn string(name: &'static str, description: &'static str) -> AttributeDef {
    attr(name, AttrType::String, description)
}

const fn complex(
    name: &'static str,
    multi_valued: bool,
    sub_attributes: &'static [AttributeDef],
    description: &'static str,
) -> AttributeDef {
    AttributeDef {
        multi_valued,
        sub_attributes,
        ..attr(name, AttrType::Complex, description)
    }
}

impl AttributeDef {
    /// The sub-attribute named `name` (case-insensitive).
    pub fn sub(&self, name: &str) -> Option<&'static AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Whether the attribute is a complex attribute.
    pub fn is_complex(&self) -> bool {
        self.kind == AttrType::Complex
    }

    fn describe(&self) -> Value {
        let mut out = json!({
            "name": self.name,
            "type": self.kind.name(),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            },
            "returned": match self.returned {
                Returned::Always => "always",
                Returned::Never => "never",
                Returned::Default => "default",
                Returned::Request => "request",
            },
            "uniqueness": if self.unique { "server" } else { "none" },
        });
        if !self.canonical_values.is_empty() {
            out["canonicalValues"] = json!(self.canonical_values);
        }
        if !self.reference_types.is_empty() {
            out["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub_attributes.is_empty() {
            out["subAttributes"] =
                Value::Array(self.sub_attributes.iter().map(Self::describe).collect());
        }
        out
    }
}

/// A schema: an id (URN), a name and its attributes.
#[derive(Debug, Clone, Copy)]
pub struct SchemaDef {
    /// The URN.
    pub id: &'static str,
    /// Short name (`User`).
    pub name: &'static str,
    /// For humans.
    pub description: &'static str,
    /// The attributes.
    pub attributes: &'static [AttributeDef],
}

impl SchemaDef {
    /// The attribute named `name` (case-insensitive).
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The schema as `/Schemas` publishes it; `location` is its URL.
    pub fn describe(&self, location: &str) -> Value {
        json!({
            "schemas": [SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(AttributeDef::describe).collect::<Vec<_>>(),
            "meta": { "resourceType": "Schema", "location": location },
        })
    }
}

const MULTI_VALUE_SUBS: [AttributeDef; 4] = [
    string("value", "The value."),
    string(
        "display",
        "A human-readable name, primarily used for display purposes.",
    ),
    string("type", "A label indicating the attribute's function."),
    attr(
        "primary",
        AttrType::Boolean,
        "Whether this is the preferred value; true at most once.",
    ),
];

const fn labelled(
    value_kind: AttrType,
    types: &'static [&'static str],
    description: &'static str,
) -> [AttributeDef; 4] {
    let [value, display, kind, primary] = MULTI_VALUE_SUBS;
    [
        AttributeDef {
            kind: value_kind,
            reference_types: if matches!(value_kind, AttrType::Reference) {
                &["external"]
            } else {
                &[]
            },
            description,
            ..value
        },
        display,
        AttributeDef {
            canonical_values: types,
            ..kind
        },
        primary,
    ]
}

const NAME_SUBS: [AttributeDef; 6] = [
    string("formatted", "The full name, formatted for display."),
    string("familyName", "The family name (last name)."),
    string("givenName", "The given name (first name)."),
    string("middleName", "The middle name(s)."),
    string("honorificPrefix", "The honorific prefix(es) (Ms., Dr.)."),
    string("honorificSuffix", "The honorific suffix(es) (III, Jr.)."),
];
const EMAIL_SUBS: [AttributeDef; 4] = labelled(
    AttrType::String,
    &["work", "home", "other"],
    "The email address.",
);
const PHONE_SUBS: [AttributeDef; 4] = labelled(
    AttrType::String,
    &["work", "home", "mobile", "fax", "pager", "other"],
    "The phone number.",
);
const IMS_SUBS: [AttributeDef; 4] = labelled(
    AttrType::String,
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
    "The instant messaging address.",
);
const PHOTO_SUBS: [AttributeDef; 4] = labelled(
    AttrType::Reference,
    &["photo", "thumbnail"],
    "The URL of a photo.",
);
const PLAIN_SUBS: [AttributeDef; 4] = labelled(AttrType::String, &[], "The value.");
const CERT_SUBS: [AttributeDef; 4] = labelled(
    AttrType::Binary,
    &[],
    "A DER-encoded X.509 certificate, base64.",
);
const ADDRESS_SUBS: [AttributeDef; 8] = [
    string(
        "formatted",
        "The full mailing address, formatted for display.",
    ),
    string("streetAddress", "The street address."),
    string("locality", "The city or locality."),
    string("region", "The state or region."),
    string("postalCode", "The zip code or postal code."),
    string("country", "The country, ISO 3166-1 alpha-2."),
    AttributeDef {
        canonical_values: &["work", "home", "other"],
        ..string("type", "A label indicating the address's function.")
    },
    attr(
        "primary",
        AttrType::Boolean,
        "Whether this is the preferred address.",
    ),
];
const GROUP_REF_SUBS: [AttributeDef; 4] = [
    AttributeDef {
        mutability: Mutability::ReadOnly,
        ..string("value", "The identifier of the group.")
    },
    AttributeDef {
        mutability: Mutability::ReadOnly,
        reference_types: &["Group"],
        ..attr("$ref", AttrType::Reference, "The URI of the group.")
    },
    AttributeDef {
        mutability: Mutability::ReadOnly,
        ..string("display", "The group's displayName.")
    },
    AttributeDef {
        mutability: Mutability::ReadOnly,
        canonical_values: &["direct", "indirect"],
        ..string("type", "How the membership was derived.")
    },
];

const USER_ATTRIBUTES: [AttributeDef; 20] = [
    AttributeDef {
        required: true,
        unique: true,
        ..string(
            "userName",
            "Unique identifier for the user, typically used to sign in.",
        )
    },
    complex(
        "name",
        false,
        &NAME_SUBS,
        "The components of the user's name.",
    ),
    string("displayName", "The name of the user, suitable for display."),
    string("nickName", "The casual way to address the user."),
    AttributeDef {
        reference_types: &["external"],
        ..attr(
            "profileUrl",
            AttrType::Reference,
            "A URI of the user's online profile.",
        )
    },
    string("title", "The user's title, such as \"Vice President\"."),
    string(
        "userType",
        "The relationship between the organization and the user.",
    ),
    string(
        "preferredLanguage",
        "The user's preferred written or spoken language.",
    ),
    string("locale", "The user's default location, for localization."),
    string("timezone", "The user's time zone, in IANA format."),
    attr(
        "active",
        AttrType::Boolean,
        "Whether the user may sign in. false ends their sessions and tokens.",
    ),
    AttributeDef {
        mutability: Mutability::WriteOnly,
        returned: Returned::Never,
        ..string(
            "password",
            "Accepted for compatibility and discarded: users sign in through the organization's IdP.",
        )
    },
    complex("emails", true, &EMAIL_SUBS, "Email addresses for the user."),
    complex(
        "phoneNumbers",
        true,
        &PHONE_SUBS,
        "Phone numbers for the user.",
    ),
    complex(
        "ims",
        true,
        &IMS_SUBS,
        "Instant messaging addresses for the user.",
    ),
    complex("photos", true, &PHOTO_SUBS, "URLs of photos of the user."),
    complex(
        "addresses",
        true,
        &ADDRESS_SUBS,
        "Physical mailing addresses.",
    ),
    AttributeDef {
        mutability: Mutability::ReadOnly,
        ..complex(
            "groups",
            true,
            &GROUP_REF_SUBS,
            "The groups the user belongs to; change them through the Group resource.",
        )
    },
    complex(
        "entitlements",
        true,
        &PLAIN_SUBS,
        "Entitlements of the user.",
    ),
    complex(
        "roles",
        true,
        &PLAIN_SUBS,
        "Roles of the user (informational; Tessera roles come from the organization's role mapping).",
    ),
];

const USER_CERTIFICATES: AttributeDef = complex(
    "x509Certificates",
    true,
    &CERT_SUBS,
    "X.509 certificates of the user.",
);

const USER_ATTRIBUTES_ALL: [AttributeDef; 21] = {
    let mut all = [USER_CERTIFICATES; 21];
    let mut i = 0;
    while i < USER_ATTRIBUTES.len() {
        all[i] = USER_ATTRIBUTES[i];
        i += 1;
    }
    all
};

const MANAGER_SUBS: [AttributeDef; 3] = [
    string("value", "The id of the user's manager."),
    AttributeDef {
        reference_types: &["User"],
        ..attr("$ref", AttrType::Reference, "The URI of the manager.")
    },
    AttributeDef {
        mutability: Mutability::ReadOnly,
        ..string("displayName", "The manager's displayName.")
    },
];

const ENTERPRISE_ATTRIBUTES: [AttributeDef; 6] = [
    string(
        "employeeNumber",
        "A string identifier, typically numeric or alphanumeric.",
    ),
    string("costCenter", "The name of a cost center."),
    string("organization", "The name of an organization."),
    string("division", "The name of a division."),
    string("department", "The name of a department."),
    complex("manager", false, &MANAGER_SUBS, "The user's manager."),
];

const MEMBER_SUBS: [AttributeDef; 3] = [
    AttributeDef {
        mutability: Mutability::Immutable,
        ..string("value", "The id of a User that belongs to the group.")
    },
    AttributeDef {
        mutability: Mutability::Immutable,
        reference_types: &["User"],
        ..attr("$ref", AttrType::Reference, "The URI of the member.")
    },
    AttributeDef {
        mutability: Mutability::Immutable,
        canonical_values: &["User"],
        ..string(
            "type",
            "The member's resource type; only User (no nested groups).",
        )
    },
];

const GROUP_ATTRIBUTES: [AttributeDef; 2] = [
    AttributeDef {
        required: true,
        ..string("displayName", "A human-readable name for the group.")
    },
    complex("members", true, &MEMBER_SUBS, "The users in the group."),
];

/// The core User schema.
pub const USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER,
    name: "User",
    description: "User Account",
    attributes: &USER_ATTRIBUTES_ALL,
};

/// The enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &ENTERPRISE_ATTRIBUTES,
};

/// The core Group schema.
pub const GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP,
    name: "Group",
    description: "Group",
    attributes: &GROUP_ATTRIBUTES,
};

/// Every schema served.
pub const ALL: [&SchemaDef; 3] = [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA];
