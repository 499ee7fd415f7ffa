//! The transmitter's tables (migration `ssf_streams`), declared here rather than in `scimd_store::schema`:
//! nothing else reads them.

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

diesel::allow_tables_to_appear_in_same_query!(ssf_streams, ssf_stream_subjects, ssf_pending, ssf_deliveries);
