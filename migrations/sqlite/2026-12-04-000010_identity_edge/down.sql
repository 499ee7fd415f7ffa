ALTER TABLE oauth_signing_keys DROP COLUMN alg;
ALTER TABLE oauth_clients DROP COLUMN id_token_signed_response_alg;
DROP INDEX oauth_access_tokens_client;
DROP INDEX oauth_access_tokens_code;
ALTER TABLE oauth_access_tokens DROP COLUMN code_hash;
ALTER TABLE org_settings DROP COLUMN scim_may_change_privileged_identity;
