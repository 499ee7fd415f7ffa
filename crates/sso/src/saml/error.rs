//! [`SamlError`]: why a SAML message was refused. One variant per reason; `reason_code()` is the stable
//! string for the audit trail and the activity page. `Display` is for logs: it never contains a NameID,
//! an attribute value or other personal data, only structural facts and algorithm URIs.

/// A refused SAML message (or an unusable input to the SAML helpers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SamlError {
    #[error("the SAML message is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the SAML message is not valid base64")]
    BadBase64,
    #[error("the SAML message is not valid DEFLATE data")]
    BadDeflate,
    #[error("the SAML message is not UTF-8")]
    NotUtf8,
    #[error("the SAML message contains a DOCTYPE or entity declaration")]
    DtdForbidden,
    #[error("the SAML message is not well-formed XML: {0}")]
    XmlInvalid(String),
    #[error("the SAML message contains a {0} node")]
    ForbiddenNode(&'static str),
    #[error("the document element is not a SAML 2.0 protocol Response")]
    NotAResponse,
    #[error("the SAML message is malformed: {0}")]
    Malformed(&'static str),
    #[error("unexpected element <{0}> in the SAML message")]
    UnexpectedElement(String),
    #[error("a namespace-qualified ID attribute is present (attribute pollution)")]
    AttributePollution,
    #[error("two elements carry the same ID")]
    DuplicateId,
    #[error("a Response or Signature element sits outside its fixed position (signature wrapping)")]
    SignatureWrapping,
    #[error("an Assertion sits somewhere other than directly under the Response")]
    AssertionMisplaced,
    #[error("the Response carries no Assertion")]
    NoAssertion,
    #[error("the Response carries more than one Assertion")]
    MultipleAssertions,
    #[error("the Response carries an EncryptedAssertion (token encryption is not supported)")]
    EncryptedAssertion,
    #[error("neither the Response nor the Assertion is signed")]
    Unsigned,
    #[error("a Signature element does not have the shape the SAML profile requires: {0}")]
    SignatureMalformed(&'static str),
    #[error("a Signature does not carry exactly one Reference to the ID of its parent element")]
    SignatureReference,
    #[error("disallowed XML-DSig algorithm {uri}")]
    DisallowedAlgorithm { uri: String },
    #[error("the certificate in KeyInfo is none of the pinned IdP certificates")]
    UntrustedCertificate,
    #[error("the signature does not verify with a pinned IdP certificate")]
    SignatureInvalid,
    #[error("the Issuer is not the configured IdP entity ID")]
    WrongIssuer,
    #[error("the IdP answered with status {status}")]
    StatusNotSuccess { status: String },
    #[error("a signed Response must carry a Destination")]
    MissingDestination,
    #[error("the Destination is not this org's ACS URL")]
    WrongDestination,
    #[error("the bearer SubjectConfirmation's Recipient is not this org's ACS URL")]
    WrongRecipient,
    #[error("the Subject has no single bearer SubjectConfirmation")]
    NoBearerConfirmation,
    #[error("the AudienceRestriction does not name this org's SP entity ID")]
    WrongAudience,
    #[error("a Conditions child is not understood: {0}")]
    UnknownCondition(String),
    #[error("InResponseTo does not match the pending request")]
    InResponseToMismatch,
    #[error("an unsolicited (IdP-initiated) response, which this connection does not allow")]
    Unsolicited,
    #[error("the assertion is not yet valid")]
    NotYetValid,
    #[error("the assertion has expired")]
    Expired,
    #[error("IssueInstant is in the future or too old")]
    IssueInstant,
    #[error("the Assertion has no AuthnStatement")]
    MissingAuthnStatement,
    #[error("the Subject has no usable NameID")]
    MissingNameId,
    #[error("an identity attribute has more than one value or a non-text value")]
    AmbiguousAttribute,
}

impl SamlError {
    /// The stable code recorded in the audit trail, e.g. `saml_signature_wrapping`.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "saml_too_large",
            Self::BadBase64 => "saml_bad_base64",
            Self::BadDeflate => "saml_bad_deflate",
            Self::NotUtf8 => "saml_not_utf8",
            Self::DtdForbidden => "saml_dtd_forbidden",
            Self::XmlInvalid(_) => "saml_xml_invalid",
            Self::ForbiddenNode(_) => "saml_forbidden_node",
            Self::NotAResponse => "saml_not_a_response",
            Self::Malformed(_) => "saml_malformed",
            Self::UnexpectedElement(_) => "saml_unexpected_element",
            Self::AttributePollution => "saml_attribute_pollution",
            Self::DuplicateId => "saml_duplicate_id",
            Self::SignatureWrapping => "saml_signature_wrapping",
            Self::AssertionMisplaced => "saml_assertion_misplaced",
            Self::NoAssertion => "saml_no_assertion",
            Self::MultipleAssertions => "saml_multiple_assertions",
            Self::EncryptedAssertion => "saml_encrypted_assertion",
            Self::Unsigned => "saml_unsigned",
            Self::SignatureMalformed(_) => "saml_signature_malformed",
            Self::SignatureReference => "saml_signature_reference",
            Self::DisallowedAlgorithm { .. } => "saml_disallowed_algorithm",
            Self::UntrustedCertificate => "saml_untrusted_certificate",
            Self::SignatureInvalid => "saml_signature_invalid",
            Self::WrongIssuer => "saml_wrong_issuer",
            Self::StatusNotSuccess { .. } => "saml_status_not_success",
            Self::MissingDestination => "saml_missing_destination",
            Self::WrongDestination => "saml_wrong_destination",
            Self::WrongRecipient => "saml_wrong_recipient",
            Self::NoBearerConfirmation => "saml_no_bearer_confirmation",
            Self::WrongAudience => "saml_wrong_audience",
            Self::UnknownCondition(_) => "saml_unknown_condition",
            Self::InResponseToMismatch => "saml_in_response_to_mismatch",
            Self::Unsolicited => "saml_unsolicited",
            Self::NotYetValid => "saml_not_yet_valid",
            Self::Expired => "saml_expired",
            Self::IssueInstant => "saml_issue_instant",
            Self::MissingAuthnStatement => "saml_missing_authn_statement",
            Self::MissingNameId => "saml_missing_name_id",
            Self::AmbiguousAttribute => "saml_ambiguous_attribute",
        }
    }
}
