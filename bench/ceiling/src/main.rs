//! The ceiling arm of the HTTP benchmark (`bench/ceiling/run.sh`): the least a server can do to answer an
//! IdP's `GET /Users?filter=userName eq "..."` from scimd's own database. actix-web, an r2d2 pool of diesel
//! connections, the same indexed query on the same table (`members_org_user_name`), the member's groups, and a
//! ListResponse of the same size as scimd's. No token check, limits, activity, audit, tracing, projection or
//! SCIM filter grammar: what scimd does beyond this is what the ratio scimd / ceiling prices.
//!
//! `DATABASE_URL` is a SQLite file (`sqlite://PATH` or a path) or a `postgres://` URL, read while scimd
//! serves the same database; `CEILING_BIND` the address (127.0.0.1:8090).

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use serde_json::{Value, json};

diesel::table! {
    members (seq) {
        seq -> BigInt,
        id -> Text,
        org_id -> Text,
        user_name_norm -> Text,
        scim_managed -> Bool,
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
        display_name -> Text,
    }
}

diesel::table! {
    group_members (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        org_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(members, groups, group_members);

#[derive(diesel::MultiConnection)]
enum Db {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

/// SQLite's connection settings as scimd sets them for a reader: wait for the writer instead of failing.
#[derive(Debug)]
struct Settings;

impl CustomizeConnection<Db, diesel::r2d2::Error> for Settings {
    fn on_acquire(&self, conn: &mut Db) -> Result<(), diesel::r2d2::Error> {
        if let Db::Sqlite(c) = conn {
            c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

type DbPool = Pool<ConnectionManager<Db>>;

struct Found {
    id: String,
    document: String,
    version: i64,
    created: NaiveDateTime,
    updated: NaiveDateTime,
    groups: Vec<(String, String)>,
}

fn lookup(conn: &mut Db, org: &str, user_name: &str) -> QueryResult<Vec<Found>> {
    let rows: Vec<(String, String, i64, NaiveDateTime, NaiveDateTime)> = members::table
        .filter(members::org_id.eq(org))
        .filter(members::user_name_norm.eq(user_name))
        .filter(members::deleted_at.is_null())
        .filter(members::scim_managed.eq(true))
        .select((
            members::id,
            members::document,
            members::version,
            members::created_at,
            members::updated_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, document, version, created, updated)| {
            let groups = group_members::table
                .inner_join(groups::table.on(groups::id.eq(group_members::group_id)))
                .filter(group_members::org_id.eq(org))
                .filter(group_members::member_id.eq(&id))
                .select((groups::id, groups::display_name))
                .load(conn)?;
            Ok(Found {
                id,
                document,
                version,
                created,
                updated,
                groups,
            })
        })
        .collect()
}

fn render(base: &str, found: Vec<Found>) -> Value {
    let resources: Vec<Value> = found
        .into_iter()
        .map(|f| {
            let mut doc: Value = serde_json::from_str(&f.document).unwrap_or_else(|_| json!({}));
            if let Some(obj) = doc.as_object_mut() {
                obj.insert("id".into(), json!(f.id));
                if !f.groups.is_empty() {
                    let groups: Vec<Value> = f
                        .groups
                        .iter()
                        .map(|(id, name)| json!({"value": id, "display": name, "$ref": format!("{base}/Groups/{id}")}))
                        .collect();
                    obj.insert("groups".into(), Value::Array(groups));
                }
                obj.insert(
                    "meta".into(),
                    json!({
                        "resourceType": "User",
                        "created": f.created.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        "lastModified": f.updated.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        "location": format!("{base}/Users/{}", f.id),
                        "version": format!("W/\"{}\"", f.version),
                    }),
                );
            }
            doc
        })
        .collect();
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// `userName eq "VALUE"`, the one filter the ceiling answers.
fn user_name_of(filter: &str) -> Option<String> {
    let rest = filter.trim().strip_prefix("userName eq \"")?;
    Some(rest.strip_suffix('"')?.to_lowercase())
}

async fn users(
    pool: web::Data<DbPool>,
    org: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(name) = query
        .iter()
        .find(|(k, _)| k == "filter")
        .and_then(|(_, v)| user_name_of(v))
    else {
        return HttpResponse::BadRequest().finish();
    };
    let org = org.into_inner();
    let base = format!("http://127.0.0.1/scim/v2/{org}");
    let found = web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        lookup(&mut conn, &org, &name).map_err(|e| e.to_string())
    })
    .await;
    match found {
        Ok(Ok(found)) => HttpResponse::Ok()
            .content_type("application/scim+json")
            .body(render(&base, found).to_string()),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "scimd.db".into());
    let url = url.strip_prefix("sqlite://").unwrap_or(&url).to_owned();
    let bind = std::env::var("CEILING_BIND").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let pool = Pool::builder()
        .max_size(16)
        .connection_customizer(Box::new(Settings))
        .build(ConnectionManager::<Db>::new(url))
        .map_err(std::io::Error::other)?;
    println!("ceiling listening on {bind}");
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(pool.clone()))
            .route("/scim/v2/{org}/Users", web::get().to(users))
    })
    .bind(bind)?
    .run()
    .await
}
