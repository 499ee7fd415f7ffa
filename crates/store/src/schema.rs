//! The diesel table definitions, written by hand for both backends (diesel's `MultiConnection` needs one
//! schema). `tests/it/schema.rs` proves that every table here loads from the migrations of both backends.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sso_connections (org_id) {
        org_id -> Text,
        kind -> Text,
        settings -> Text,
        secret_ciphertext -> Nullable<Binary>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    scim_tokens (id) {
        id -> Text,
        org_id -> Text,
        token_hash -> Binary,
        hint -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    members (seq) {
        seq -> BigInt,
        id -> Text,
        org_id -> Text,
        user_name -> Text,
        user_name_norm -> Text,
        external_id -> Nullable<Text>,
        role -> Text,
        active -> Bool,
        scim_managed -> Bool,
        display_name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        email -> Nullable<Text>,
        document -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    groups (seq) {
        seq -> BigInt,
        id -> Text,
        org_id -> Text,
        display_name -> Text,
        display_name_norm -> Text,
        external_id -> Nullable<Text>,
        document -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    group_members (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        org_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    admin_sessions (id) {
        id -> Text,
        org_id -> Text,
        member_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_links (id) {
        id -> Text,
        org_id -> Text,
        member_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        org_id -> Nullable<Text>,
        key_hash -> Binary,
        hint -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        id -> Text,
        org_id -> Text,
        #[sql_name = "type"]
        event_type -> Text,
        occurred_at -> Timestamp,
        data -> Text,
        position -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        id -> Text,
        org_id -> Text,
        occurred_at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    scim_activity (seq) {
        seq -> BigInt,
        org_id -> Text,
        occurred_at -> Timestamp,
        method -> Text,
        path -> Text,
        status -> Integer,
        duration_us -> BigInt,
        scim_type -> Nullable<Text>,
        dialects -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    org_settings (org_id) {
        org_id -> Text,
        safety_valve_enabled -> Bool,
        safety_valve_percent -> Integer,
        safety_valve_min -> Integer,
        safety_valve_tripped_at -> Nullable<Timestamp>,
        safety_valve_released_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        scim_may_link_owner -> Bool,
        scim_may_change_privileged_identity -> Bool,
    }
}

diesel::table! {
    org_tallies (org_id, shard) {
        org_id -> Text,
        shard -> Integer,
        users -> BigInt,
        active_users -> BigInt,
        groups -> BigInt,
    }
}

diesel::table! {
    org_limits (org_id) {
        org_id -> Text,
        rate -> Nullable<Integer>,
        burst -> Nullable<Integer>,
        in_flight -> Nullable<Integer>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    safety_valve_minutes (org_id, minute, shard) {
        org_id -> Text,
        minute -> Timestamp,
        shard -> Integer,
        deprovisioned -> BigInt,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        org_id -> Nullable<Text>,
        url -> Text,
        types -> Text,
        secret_sealed -> Binary,
        created_at -> Timestamp,
        cursor -> BigInt,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        failing_since -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        leased_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (seq) {
        seq -> BigInt,
        endpoint_id -> Text,
        org_id -> Text,
        event_id -> Text,
        event_type -> Text,
        position -> Nullable<BigInt>,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        latency_ms -> BigInt,
        delivered -> Bool,
        attempted_at -> Timestamp,
    }
}

diesel::table! {
    sso_pending_logins (id) {
        id -> Binary,
        org_id -> Text,
        protocol -> Text,
        request_id -> Text,
        browser_hash -> Binary,
        secret_sealed -> Nullable<Binary>,
        return_to -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sso_handoffs (id) {
        id -> Binary,
        org_id -> Text,
        member_id -> Text,
        method -> Text,
        browser_hash -> Binary,
        return_to -> Text,
        session_not_after -> Nullable<Timestamp>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sso_assertion_replays (org_id, assertion_id) {
        org_id -> Text,
        assertion_id -> Text,
        keep_until -> Timestamp,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Binary,
        redirect_uris -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        id_token_signed_response_alg -> Text,
    }
}

diesel::table! {
    oauth_codes (code_hash) {
        code_hash -> Binary,
        client_id -> Text,
        org_id -> Text,
        member_id -> Text,
        session_id -> Text,
        redirect_uri -> Text,
        code_challenge -> Text,
        nonce -> Nullable<Text>,
        scope -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_access_tokens (token_hash) {
        token_hash -> Binary,
        client_id -> Text,
        org_id -> Text,
        member_id -> Text,
        session_id -> Text,
        scope -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        code_hash -> Nullable<Binary>,
    }
}

diesel::table! {
    oauth_signing_keys (kid) {
        kid -> Text,
        private_sealed -> Binary,
        public_key -> Binary,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
        alg -> Text,
    }
}

diesel::table! {
    roles (org_id, name) {
        org_id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_mappings (group_id, role) {
        group_id -> Text,
        role -> Text,
        org_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    member_roles (member_id, role, source_kind, source_id) {
        member_id -> Text,
        role -> Text,
        source_kind -> Text,
        source_id -> Text,
        org_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_settings (org_id) {
        org_id -> Text,
        scim_roles -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    role_jobs (id) {
        id -> Text,
        org_id -> Text,
        group_id -> Text,
        role -> Text,
        direction -> Text,
        after_member -> Text,
        done -> BigInt,
        total -> BigInt,
        changed -> BigInt,
        finished_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::table! {
    attribute_definitions (id) {
        id -> Text,
        org_id -> Nullable<Text>,
        name -> Text,
        name_norm -> Text,
        ty -> Text,
        multi_valued -> Bool,
        case_exact -> Bool,
        filterable -> Bool,
        claim -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    member_attribute_values (member_id, attribute, position) {
        org_id -> Text,
        member_id -> Text,
        attribute -> Text,
        position -> Integer,
        value_text -> Nullable<Text>,
        value_int -> Nullable<BigInt>,
        value_dec -> Nullable<Double>,
        value_time -> Nullable<Timestamp>,
    }
}

// The Shared Signals transmitter's tables (migration `ssf_streams`; `scimd-ssf` reads and writes them).
diesel::table! {
    ssf_streams (id) {
        id -> Text,
        org_id -> Nullable<Text>,
        api_key_id -> Text,
        audience -> Text,
        delivery_method -> Text,
        endpoint_url -> Nullable<Text>,
        authorization_sealed -> Nullable<Binary>,
        events_requested -> Text,
        description -> Nullable<Text>,
        status -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        cursor -> BigInt,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        failing_since -> Nullable<Timestamp>,
        leased_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
    }
}

diesel::table! {
    ssf_stream_subjects (stream_id, member_id) {
        stream_id -> Text,
        member_id -> Text,
        included -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ssf_pending (seq) {
        seq -> BigInt,
        stream_id -> Text,
        jti -> Text,
        event_type -> Text,
        token -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ssf_deliveries (seq) {
        seq -> BigInt,
        stream_id -> Text,
        org_id -> Nullable<Text>,
        jti -> Text,
        event_type -> Text,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        latency_ms -> BigInt,
        delivered -> Bool,
        attempted_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    organizations,
    sso_connections,
    scim_tokens,
    members,
    groups,
    group_members,
    admin_sessions,
    login_links,
    server_secrets,
    audit_events,
    events,
    scim_activity,
    org_settings,
    org_limits,
    org_tallies,
    safety_valve_minutes,
    webhook_endpoints,
    webhook_deliveries,
    sso_pending_logins,
    sso_handoffs,
    sso_assertion_replays,
    oauth_clients,
    oauth_codes,
    oauth_access_tokens,
    oauth_signing_keys,
    roles,
    role_mappings,
    member_roles,
    role_settings,
    role_jobs,
    attribute_definitions,
    member_attribute_values,
    ssf_streams,
    ssf_stream_subjects,
    ssf_pending,
    ssf_deliveries,
);
