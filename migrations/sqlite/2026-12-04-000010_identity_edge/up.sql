-- The identity edge (issue #23).
--
-- Whether SCIM may change the userName or externalId of an owner or admin (review 3, L-10): those are the
-- keys SSO finds a member by, so changing them re-points who signs in as that member. Off by default.
ALTER TABLE org_settings ADD COLUMN scim_may_change_privileged_identity BOOLEAN NOT NULL DEFAULT false;

-- The code an access token was issued from (its SHA-256): a second use of the code revokes the tokens
-- issued from it (RFC 6749 §4.1.2, review 3 L-1).
ALTER TABLE oauth_access_tokens ADD COLUMN code_hash BLOB;
CREATE INDEX oauth_access_tokens_code ON oauth_access_tokens (code_hash);
CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id);

-- The algorithm of a client's ID tokens (its registered id_token_signed_response_alg): RS256 by default, as
-- OpenID Connect Discovery requires; clients registered before keep the EdDSA they were built against.
ALTER TABLE oauth_clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';
UPDATE oauth_clients SET id_token_signed_response_alg = 'EdDSA';

-- A signing key's algorithm: EdDSA (Ed25519, public_key the 32 raw bytes) or RS256 (RSA-2048, public_key
-- its PKCS#1 DER). The newest key of each algorithm signs.
ALTER TABLE oauth_signing_keys ADD COLUMN alg TEXT NOT NULL DEFAULT 'EdDSA';
