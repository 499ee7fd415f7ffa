//! The SSO connection card: SAML and Azure AD, each field's error next to it with what was typed kept, the
//! client secret never rendered back, edit and remove.

use crate::support::*;
use actix_web::http::StatusCode;
use scimd_store::testing::TestDb;

fn without_a_connection_the_form_shows_and_scim_is_disabled(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let res = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.body.contains(r#"id="saml-form""#));
        for field in ["entity_id", "sso_url", "certificate"] {
            assert!(
                res.body.contains(&format!(r#"<label for="{field}">"#)),
                "{field} has a label"
            );
        }
        assert_eq!(text_of(&res.body, "scim-status"), "Unavailable");
        assert!(
            res.body
                .contains("SCIM provisioning needs an SSO connection first")
        );
        assert!(
            res.body
                .contains(&format!(r##"href="{}#sso""##, url(&ctx, "sso")))
        );
        assert!(!res.body.contains(r#"id="generate-form""#));
        // The Azure AD form is one link away, and works without JavaScript.
        let azure = get(&app, Some(&browser), &url(&ctx, "sso?kind=azure_ad")).await;
        assert!(azure.body.contains(r#"id="azure-form""#));
        for field in ["tenant_id", "client_id", "client_secret"] {
            assert!(
                azure.body.contains(&format!(r#"<label for="{field}">"#)),
                "{field} has a label"
            );
        }
    });
}

fn a_valid_saml_connection_is_shown_by_subject_fingerprint_and_expiry(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, ADMIN).await;
        let res = post_sso(
            &app,
            &browser,
            &ctx,
            SsoForm::Saml,
            [
                "https://idp.acme.test/metadata",
                "https://idp.acme.test/sso/saml",
                CERT_PEM,
            ],
        )
        .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = get(&app, Some(&browser), res.location()).await;
        assert!(page.body.contains("SSO connection saved."));
        assert_eq!(text_of(&page.body, "sso-status"), "Connected");
        assert_eq!(text_of(&page.body, "sso-kind"), "SAML 2.0");
        assert_eq!(
            text_of(&page.body, "cert-subject"),
            "CN=idp.acme.test, O=Acme Corp"
        );
        assert_eq!(
            text_of(&page.body, "cert-fingerprint"),
            "22:9D:67:EC:6C:51:C4:35:60:8E:88:BA:16:E0:03:8C:1B:BC:5A:5D:C5:20:8A:30:BB:9A:E9:2A:48:92:5D:1F"
        );
        assert_eq!(text_of(&page.body, "cert-expiry"), "2036-11-25");
        assert!(page.body.contains("https://idp.acme.test/metadata"));
        // SCIM provisioning is now available.
        assert_eq!(text_of(&page.body, "scim-status"), "Not configured");
        assert!(page.body.contains(r#"id="generate-form""#));
        assert!(audit_actions(db, &ctx.org).contains(&"sso.saml_set".to_owned()));
    });
}

fn every_saml_field_error_is_shown_next_to_its_field_and_the_form_keeps_what_was_typed(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let typed_entity = "has a space <b>";
        let res = post_sso(
            &app,
            &browser,
            &ctx,
            SsoForm::Saml,
            [typed_entity, "http://idp.acme.test/sso", "not a certificate"],
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("3 fields need your attention"));
        assert!(res.body.contains("must not contain spaces"));
        assert!(res.body.contains("The SSO URL must start with https://"));
        assert!(res.body.contains(r#"id="entity_id-error""#));
        assert!(res.body.contains(r#"id="sso_url-error""#));
        assert!(res.body.contains(r#"id="certificate-error""#));
        assert!(
            res.body
                .contains(r#"aria-describedby="entity_id-hint entity_id-error" aria-invalid="true""#)
        );
        // What was typed stays, escaped.
        assert!(
            res.body.contains(r#"value="has a space &#60;b&#62;""#)
                || res.body.contains(r#"value="has a space &lt;b&gt;""#),
            "{}",
            res.body
        );
        assert!(res.body.contains(r#"value="http://idp.acme.test/sso""#));
        assert!(res.body.contains(">not a certificate</textarea>"));
        assert!(
            ctx.state.connection.get_blocking(&ctx.org).unwrap().is_none(),
            "nothing was saved"
        );

        // One field at a time: an empty entity ID alone, an expired certificate alone.
        let res = post_sso(
            &app,
            &browser,
            &ctx,
            SsoForm::Saml,
            ["", "https://idp.acme.test/sso", CERT_PEM],
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("One field needs your attention"));
        assert!(res.body.contains("The IdP entity ID is required"));
        assert!(!res.body.contains(r#"id="sso_url-error""#));
        assert!(!res.body.contains(r#"id="certificate-error""#));

        ctx.clock.set(
            chrono::DateTime::parse_from_rfc3339("2040-01-01T00:00:00Z")
                .unwrap()
                .to_utc(),
        );
        // The session would have expired by then: sign in again at the new time.
        let browser = login(&app, &ctx, OWNER).await;
        let res = post_sso(
            &app,
            &browser,
            &ctx,
            SsoForm::Saml,
            ["https://idp.acme.test", "https://idp.acme.test/sso", CERT_PEM],
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body.contains("The signing certificate expired on 2036-11-25"),
            "{}",
            res.body
        );
    });
}

fn a_certificate_subject_from_the_idp_renders_as_text(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let res = post_sso(
            &app,
            &browser,
            &ctx,
            SsoForm::Saml,
            ["https://evil.test", "https://evil.test/sso", XSS_CERT_PEM],
        )
        .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert!(!page.body.contains("<img src=x onerror=alert(1)>"));
        assert!(
            page.body.contains("&#60;img src=x onerror=alert(1)&#62;")
                || page.body.contains("&lt;img src=x onerror=alert(1)&gt;")
        );
        assert!(page.body.contains("Evil &#38; Co") || page.body.contains("Evil &amp; Co"));
    });
}

fn an_azure_connection_stores_the_secret_encrypted_and_never_renders_it(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let secret = "Zq8~s3cr3t.value_never.shown";
        let res = post_sso(&app, &browser, &ctx, SsoForm::Azure, [TENANT, CLIENT, secret]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert_eq!(text_of(&page.body, "sso-kind"), "Microsoft Entra ID (Azure AD)");
        assert!(page.body.contains(TENANT) && page.body.contains(CLIENT));
        assert!(page.body.contains("Saved, encrypted"));
        assert!(!page.body.contains(secret));
        // The edit form does not render it back either.
        let edit = get(&app, Some(&browser), &url(&ctx, "sso?edit=1")).await;
        assert!(
            edit.body
                .contains(r#"id="client_secret" name="client_secret" type="password" value="""#)
        );
        assert!(!edit.body.contains(secret));
        assert!(edit.body.contains("Leave this blank to keep it"));
        // At rest it is not the plaintext.
        let row = db
            .store
            .read(|conn| scimd_store::models::sso_connections::find(conn, &ctx.org))
            .unwrap()
            .unwrap();
        let ciphertext = row.secret_ciphertext.unwrap();
        assert!(!ciphertext.windows(secret.len()).any(|w| w == secret.as_bytes()));
        assert!(!row.settings.contains(secret));

        // Saving with the secret left blank keeps it.
        let other_client = "0f0e0d0c-0b0a-4909-8807-060504030201";
        let res = post_sso(&app, &browser, &ctx, SsoForm::Azure, [TENANT, other_client, ""]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = get(&app, Some(&browser), &url(&ctx, "sso")).await;
        assert!(page.body.contains(other_client));
        assert!(page.body.contains("Saved, encrypted"));
    });
}

fn every_azure_field_error_is_shown_next_to_its_field(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, OWNER).await;
        let res = post_sso(&app, &browser, &ctx, SsoForm::Azure, ["contoso", "", ""]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("3 fields need your attention"));
        assert!(res.body.contains(r#"id="tenant_id-error""#) && res.body.contains("must be a UUID"));
        assert!(
            res.body.contains(r#"id="client_id-error""#) && res.body.contains("The client ID is required")
        );
        assert!(
            res.body.contains(r#"id="client_secret-error""#)
                && res.body.contains("The client secret is required")
        );
        assert!(res.body.contains(r#"value="contoso""#), "typed values are kept");

        // A typed secret is never echoed, even into a refused form: the field asks for it again.
        let typed = "typed-secret-do-not-echo";
        let res = post_sso(&app, &browser, &ctx, SsoForm::Azure, [TENANT, "nope", typed]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!res.body.contains(typed));
        assert!(res.body.contains("Enter the client secret again"));
        assert!(res.body.contains(&format!(r#"value="{TENANT}""#)));
        assert!(!res.body.contains(r#"id="tenant_id-error""#));

        // A secret with a control character.
        let res = post_sso(&app, &browser, &ctx, SsoForm::Azure, [TENANT, CLIENT, "a\u{7}b"]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("must not contain control characters"));
        assert!(ctx.state.connection.get_blocking(&ctx.org).unwrap().is_none());
    });
}

fn removing_the_connection_asks_first_and_turns_scim_off(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        set_azure(&ctx);
        let browser = login(&app, &ctx, OWNER).await;
        let generated = post(&app, &browser, &url(&ctx, "scim/token"), &[("expires", "never")]).await;
        assert_eq!(generated.status, StatusCode::OK);
        let token = text_of(&generated.body, "scim-token");

        let confirm = get(&app, Some(&browser), &url(&ctx, "sso/remove")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.body.contains("Remove the SSO connection?"));
        assert!(confirm.body.contains("its tokens are revoked too"));
        assert!(confirm.body.contains(r#"role="dialog""#) && confirm.body.contains(r#"aria-modal="true""#));

        let res = post(&app, &browser, &url(&ctx, "sso/remove"), &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let page = get(&app, Some(&browser), res.location()).await;
        assert!(page.body.contains("SSO connection removed."));
        assert_eq!(text_of(&page.body, "scim-status"), "Unavailable");
        assert!(ctx.state.connection.get_blocking(&ctx.org).unwrap().is_none());
        let header = format!("Bearer {token}");
        assert!(ctx.state.tokens.verify_blocking(&ctx.org, Some(&header)).is_err());
        assert!(audit_actions(db, &ctx.org).contains(&"sso.removed".to_owned()));
        // Without a connection the confirmation page sends back to the SSO page.
        let again = get(&app, Some(&browser), &url(&ctx, "sso/remove")).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
    });
}

/// An IdP's metadata as Okta or Entra publish it: the entity ID, both SSO bindings, signing certificates.
fn idp_metadata(certs: &[&str]) -> String {
    let descriptors: String = certs
        .iter()
        .map(|pem| {
            let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            format!(
                "<KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data>\
                 <X509Certificate>{b64}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><EntityDescriptor entityID=\"https://idp.acme.test/metadata\" \
         xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\"><IDPSSODescriptor \
         protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{descriptors}\
         <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://idp.acme.test/post\"/>\
         <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://idp.acme.test/sso/redirect\"/>\
         </IDPSSODescriptor></EntityDescriptor>"
    )
}

fn idp_metadata_fills_the_form_for_the_admin_to_confirm(db: &TestDb) {
    run(async {
        let ctx = ctx(db);
        let app = app(&ctx).await;
        let browser = login(&app, &ctx, ADMIN).await;
        let xml = idp_metadata(&[CERT_PEM, XSS_CERT_PEM]);
        let read = post(
            &app,
            &browser,
            &url(&ctx, "sso/saml/metadata"),
            &[("metadata_xml", &xml)],
        )
        .await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        assert!(read.body.contains(r#"id="metadata-read""#));
        assert!(read.body.contains(r#"value="https://idp.acme.test/metadata""#));
        assert!(
            read.body
                .contains(r#"value="https://idp.acme.test/sso/redirect""#),
            "the HTTP-Redirect SSO URL"
        );
        for (pem, field) in [(CERT_PEM, "certificate"), (XSS_CERT_PEM, "next_certificate")] {
            let line = pem.lines().nth(1).unwrap();
            let textarea = read.body.split(&format!(r#"id="{field}""#)).nth(1).unwrap();
            let content = textarea.split("</textarea>").next().unwrap();
            assert!(content.contains(line), "{field} filled in from the metadata");
        }
        // Nothing is saved until the admin confirms.
        assert!(ctx.state.connection.get_blocking(&ctx.org).unwrap().is_none());
        // Metadata that is not an IdP's: the error next to the field, 422, nothing saved.
        let bad = post(
            &app,
            &browser,
            &url(&ctx, "sso/saml/metadata"),
            &[("metadata_xml", "<!DOCTYPE x><x/>")],
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains(r#"id="metadata_xml-error""#), "{}", bad.body);
        // Saving with a next certificate and IdP-initiated sign-in shows both.
        let saved = post(
            &app,
            &browser,
            &url(&ctx, "sso/saml"),
            &[
                ("entity_id", "https://idp.acme.test/metadata"),
                ("sso_url", "https://idp.acme.test/sso/redirect"),
                ("certificate", CERT_PEM),
                ("next_certificate", CERT_PEM),
                ("allow_unsolicited", "on"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = get(&app, Some(&browser), saved.location()).await;
        assert_eq!(
            text_of(&page.body, "next-cert-subject"),
            "CN=idp.acme.test, O=Acme Corp"
        );
        assert_eq!(text_of(&page.body, "sso-unsolicited"), "Allowed");
        assert_eq!(text_of(&page.body, "signin-status"), "Members can sign in");
        assert!(page.body.contains(&format!("/sso/saml/{}/acs", ctx.org)));
        // A bad next certificate is refused next to its own field.
        let refused = post(
            &app,
            &browser,
            &url(&ctx, "sso/saml"),
            &[
                ("entity_id", "https://idp.acme.test/metadata"),
                ("sso_url", "https://idp.acme.test/sso/redirect"),
                ("certificate", CERT_PEM),
                ("next_certificate", "not a certificate"),
            ],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains(r#"id="next_certificate-error""#),
            "{}",
            refused.body
        );
    });
}

scimd_store::backend_tests!(
    idp_metadata_fills_the_form_for_the_admin_to_confirm,
    without_a_connection_the_form_shows_and_scim_is_disabled,
    a_valid_saml_connection_is_shown_by_subject_fingerprint_and_expiry,
    every_saml_field_error_is_shown_next_to_its_field_and_the_form_keeps_what_was_typed,
    a_certificate_subject_from_the_idp_renders_as_text,
    an_azure_connection_stores_the_secret_encrypted_and_never_renders_it,
    every_azure_field_error_is_shown_next_to_its_field,
    removing_the_connection_asks_first_and_turns_scim_off,
);
