-- Whether SCIM may link the org's owner (a member `scimd org create` made, not SCIM-managed yet) when the IdP
-- creates a User with the owner's userName. Off by default: linking hands the owner's row to the IdP.
ALTER TABLE org_settings ADD COLUMN scim_may_link_owner BOOLEAN NOT NULL DEFAULT false;
