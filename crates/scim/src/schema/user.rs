//! The core User schema, `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7643 §4.1 and §8.7.1).

use super::SchemaDef;
use super::attribute::{AttrType, AttributeDef as A, Mutability, Returned, Uniqueness};

/// The core User schema URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

const NAME: &[A] = &[
    A::string(
        "formatted",
        "The full name, including all middle names, titles and suffixes, formatted for display.",
    ),
    A::string(
        "familyName",
        "The family name of the User, or last name in most Western languages.",
    ),
    A::string(
        "givenName",
        "The given name of the User, or first name in most Western languages.",
    ),
    A::string("middleName", "The middle name(s) of the User."),
    A::string(
        "honorificPrefix",
        "The honorific prefix(es) of the User, or title in most Western languages.",
    ),
    A::string(
        "honorificSuffix",
        "The honorific suffix(es) of the User, or suffix in most Western languages.",
    ),
];

const PRIMARY: A = A::boolean(
    "primary",
    "Whether this value is the preferred one; 'true' appears at most once.",
);
const DISPLAY: A = A::string(
    "display",
    "A human-readable name, primarily used for display purposes.",
);

const EMAILS: &[A] = &[
    A::string("value", "Email address for the User, canonicalized per RFC 5321."),
    DISPLAY,
    A::string("type", "A label indicating the email's function.").canonical(&["work", "home", "other"]),
    PRIMARY,
];

const PHONES: &[A] = &[
    A::string("value", "Phone number of the User, ideally in RFC 3966 form."),
    DISPLAY,
    A::string("type", "A label indicating the phone number's function.")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    PRIMARY,
];

const IMS: &[A] = &[
    A::string("value", "Instant messaging address for the User."),
    DISPLAY,
    A::string("type", "A label indicating the IM's function.")
        .canonical(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
    PRIMARY,
];

const PHOTOS: &[A] = &[
    A::reference("value", &["external"], "URL of a photo of the User.").case_exact(),
    DISPLAY,
    A::string("type", "A label indicating the photo's function.").canonical(&["photo", "thumbnail"]),
    PRIMARY,
];

const ADDRESSES: &[A] = &[
    A::string(
        "formatted",
        "The full mailing address, formatted for display or use with a mailing label.",
    ),
    A::string("streetAddress", "The full street address component."),
    A::string("locality", "The city or locality component."),
    A::string("region", "The state or region component."),
    A::string("postalCode", "The zip code or postal code component."),
    A::string(
        "country",
        "The country name component, as an ISO 3166-1 alpha-2 code.",
    ),
    A::string("type", "A label indicating the address's function.").canonical(&["work", "home", "other"]),
    PRIMARY,
];

const GROUPS: &[A] = &[
    A::string("value", "The identifier of the User's group.").mutability(Mutability::ReadOnly),
    A::reference(
        "$ref",
        &["User", "Group"],
        "The URI of the corresponding Group resource.",
    )
    .mutability(Mutability::ReadOnly),
    A::string(
        "display",
        "A human-readable name, primarily used for display purposes.",
    )
    .mutability(Mutability::ReadOnly),
    A::string("type", "How the group membership was derived.")
        .canonical(&["direct", "indirect"])
        .mutability(Mutability::ReadOnly),
];

const GENERIC: &[A] = &[
    A::string("value", "The value."),
    DISPLAY,
    A::string("type", "A label indicating the value's function."),
    PRIMARY,
];

const X509: &[A] = &[
    A::new(
        "value",
        AttrType::Binary,
        "The value of an X.509 certificate, DER encoded in base64.",
    )
    .case_exact(),
    DISPLAY,
    A::string("type", "A label indicating the certificate's function."),
    PRIMARY,
];

const ATTRIBUTES: &[A] = &[
    A::string(
        "userName",
        "Unique identifier for the User, used to authenticate; for scimd, the email.",
    )
    .required()
    .uniqueness(Uniqueness::Server),
    A::complex("name", NAME, "The components of the user's real name."),
    A::string(
        "displayName",
        "The name of the User, suitable for display to end-users.",
    ),
    A::string("nickName", "The casual way to address the user in real life."),
    A::reference(
        "profileUrl",
        &["external"],
        "A fully qualified URL pointing to the User's online profile.",
    ),
    A::string("title", "The user's title, such as \"Vice President\"."),
    A::string(
        "userType",
        "The relationship between the organization and the user.",
    ),
    A::string(
        "preferredLanguage",
        "The User's preferred written or spoken language (RFC 7231 §5.3.5).",
    ),
    A::string("locale", "The User's default location for localization."),
    A::string(
        "timezone",
        "The User's time zone in IANA Time Zone database format.",
    ),
    A::boolean("active", "The User's administrative status."),
    A::string(
        "password",
        "The User's cleartext password. scimd never stores it.",
    )
    .mutability(Mutability::WriteOnly)
    .returned(Returned::Never),
    A::complex("emails", EMAILS, "Email addresses for the user.").multi(),
    A::complex("phoneNumbers", PHONES, "Phone numbers for the User.").multi(),
    A::complex("ims", IMS, "Instant messaging addresses for the User.").multi(),
    A::complex("photos", PHOTOS, "URLs of photos of the User.").multi(),
    A::complex(
        "addresses",
        ADDRESSES,
        "A physical mailing address for this User.",
    )
    .multi(),
    A::complex("groups", GROUPS, "A list of groups to which the user belongs.")
        .multi()
        .mutability(Mutability::ReadOnly),
    A::complex("entitlements", GENERIC, "A list of entitlements for the User.").multi(),
    A::complex("roles", GENERIC, "A list of roles for the User.").multi(),
    A::complex(
        "x509Certificates",
        X509,
        "A list of certificates issued to the User.",
    )
    .multi(),
];

/// The core User schema.
pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER_URN,
    name: "User",
    description: "User Account",
    attributes: ATTRIBUTES,
};
