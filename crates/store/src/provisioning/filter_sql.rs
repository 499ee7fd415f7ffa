//! A SCIM filter ([`ResolvedFilter`]) translated to SQL, for both backends, from ONE allowlist: [`target`]
//! maps a canonical attribute path to an indexed column, a child table (`group_members`), a JSON function
//! on the stored document, or a refusal (`invalidFilter`). Nothing is dropped and nothing is evaluated in
//! memory: what cannot be translated is refused.
//!
//! Semantics follow `scimd_scim::filter::in_memory` (the reference the tests compare against):
//! - a comparison on a multi-valued attribute holds when some value satisfies it (`EXISTS`);
//! - `ne` is `not eq`, so it also holds when the attribute is unassigned;
//! - `not` treats "unknown" (SQL NULL) as false before negating, hence `NOT ((x) IS TRUE)`;
//! - strings compare case-insensitively unless the attribute is `caseExact`; `userName` and a Group's
//!   `displayName` compare on their normalised column (the unique key), so `eq` uses the unique index;
//! - `co`/`sw`/`ew` escape `%`, `_` and `\` (LIKE) or `*`, `?`, `[` (SQLite GLOB, for caseExact).
//!
//! Every value from the request is a bind parameter; the only text spliced into SQL comes from this file.

use crate::connection::Backend;
use crate::ids::OrgId;
use crate::sql::{Bind, Sql};
use crate::user_name;
use scimd_scim::ScimError;
use scimd_scim::filter::CompareOp;
use scimd_scim::filter::resolve::{ResolvedAttr, ResolvedFilter, TypedValue};
use scimd_scim::schema::{AttrType, CUSTOM_USER_URN, Namespace, ResourceKind};

/// The JSON document column of a resource type's table (`members` for Users, `groups` for Groups).
fn document(resource: ResourceKind) -> &'static str {
    match resource {
        ResourceKind::User => "members.document",
        ResourceKind::Group => "groups.document",
    }
}

/// Whether a filter pins its rows by a unique or near-unique indexed key (`userName eq`, `id eq`,
/// `externalId eq`, a Group's `displayName eq`), alone or in an `and`. Such a list orders by `seq + 0`, so that
/// no planner walks the org's paging index in `seq` order looking for the one row: PostgreSQL does exactly
/// that on a fresh database, before its first `ANALYZE`, and the lookup then costs the org instead of a row.
///
/// `eq` on a custom attribute counts too: its values' index yields the few members that hold the value, and
/// the members are then found by `id` (measured: a lookup in an org of 20,000 read 40,002 rows and index
/// entries while the list walked the paging index, see `tests/it/custom_attribute_plans.rs`).
pub(crate) fn pins_by_key(resource: ResourceKind, filter: &ResolvedFilter) -> bool {
    match filter {
        ResolvedFilter::And(a, b) => pins_by_key(resource, a) || pins_by_key(resource, b),
        ResolvedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value,
        } if *value != TypedValue::Null
            && matches!(attr.namespace, Namespace::Extension(ext) if ext.id == CUSTOM_USER_URN) =>
        {
            true
        }
        ResolvedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value: TypedValue::String(_),
        } if attr.sub_attr.is_none() => {
            let keys: &[&str] = match resource {
                ResourceKind::User => &["userName", "id", "externalId"],
                ResourceKind::Group => &["displayName", "id", "externalId"],
            };
            keys.contains(&attr.path.as_str())
        }
        _ => false,
    }
}

/// How the values of an operand compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text; `ci` compares case-insensitively through `lower()`.
    Text { ci: bool },
    /// A normalised column (`user_name_norm`, `display_name_norm`): the operand is normalised the same way.
    Normalised,
    /// A boolean column.
    Bool,
    /// A boolean inside the JSON document (SQLite yields 1/0, PostgreSQL's `->>` yields 'true'/'false').
    JsonBool,
    /// A timestamp column.
    Time,
    /// A complex value inside the document: only `pr` applies.
    JsonComplex,
    /// Text stored lower-cased (a custom attribute that is not case-exact): the operand is lower-cased too,
    /// so the comparison is on the indexed column itself.
    Lowered,
    /// A boolean stored as the text `true` / `false` (custom attributes' index).
    TextBool,
    /// A BIGINT column.
    Int,
    /// A DOUBLE column.
    Dec,
}

/// A scalar SQL expression and how it compares.
#[derive(Debug, Clone)]
struct Operand {
    sql: Sql,
    kind: Kind,
}

/// Where an attribute's values live: the allowlist's answer.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A column of the resource's own table.
    Column { sql: &'static str, kind: Kind },
    /// A constant (`meta.resourceType`).
    Constant(&'static str),
    /// A value in the JSON document. `keys` lead from the document root to the attribute; for a
    /// multi-valued attribute `element` is the sub-attribute inside each value (`None`: the value itself).
    Json {
        keys: Vec<&'static str>,
        multi: bool,
        element: Option<&'static str>,
        ty: AttrType,
        case_exact: bool,
    },
    /// `groups.*` of a User or `members.*` of a Group: rows of `group_members`. `sub` is the sub-attribute.
    Child { sub: Option<&'static str> },
    /// A declared filterable custom attribute: rows of `member_attribute_values` (`attribute` lower-cased).
    Custom {
        attribute: String,
        ty: AttrType,
        case_exact: bool,
    },
}

/// Columns of `members` for User attributes. `userName` is the normalised unique key.
const USER_COLUMNS: &[(&str, &str, Kind)] = &[
    ("id", "members.id", Kind::Text { ci: false }),
    ("externalId", "members.external_id", Kind::Text { ci: false }),
    ("userName", "members.user_name_norm", Kind::Normalised),
    ("displayName", "members.display_name", Kind::Text { ci: true }),
    ("name.givenName", "members.given_name", Kind::Text { ci: true }),
    ("name.familyName", "members.family_name", Kind::Text { ci: true }),
    ("active", "members.active", Kind::Bool),
    ("meta.created", "members.created_at", Kind::Time),
    ("meta.lastModified", "members.updated_at", Kind::Time),
];

/// Columns of `groups` for Group attributes. `displayName` is the normalised unique key.
const GROUP_COLUMNS: &[(&str, &str, Kind)] = &[
    ("id", "groups.id", Kind::Text { ci: false }),
    ("externalId", "groups.external_id", Kind::Text { ci: false }),
    ("displayName", "groups.display_name_norm", Kind::Normalised),
    ("meta.created", "groups.created_at", Kind::Time),
    ("meta.lastModified", "groups.updated_at", Kind::Time),
];

/// The allowlist: where the values of `attr` live for `resource`, or why it cannot be filtered.
fn target(resource: ResourceKind, attr: &ResolvedAttr) -> Result<Target, ScimError> {
    // Only declared filterable attributes resolve into the custom extension (`resolve_with`).
    if let Namespace::Extension(ext) = attr.namespace
        && ext.id == CUSTOM_USER_URN
        && resource == ResourceKind::User
    {
        let name = attr.path.rsplit(':').next().unwrap_or_default();
        return Ok(Target::Custom {
            attribute: name.to_ascii_lowercase(),
            ty: attr.ty,
            case_exact: attr.case_exact,
        });
    }
    let columns = match resource {
        ResourceKind::User => USER_COLUMNS,
        ResourceKind::Group => GROUP_COLUMNS,
    };
    if let Some((_, sql, kind)) = columns.iter().find(|(p, _, _)| *p == attr.path) {
        return Ok(Target::Column { sql, kind: *kind });
    }
    let refuse = || {
        Err(ScimError::invalid_filter(format!(
            "\"{}\" cannot be used in a filter by this service provider.",
            attr.path
        )))
    };
    let top = attr.attr.name;
    let sub = attr.sub_attr.map(|s| s.name);
    match attr.namespace {
        Namespace::Common => match (top, sub) {
            ("meta", Some("resourceType")) => {
                return Ok(Target::Constant(match resource {
                    ResourceKind::User => "User",
                    ResourceKind::Group => "Group",
                }));
            }
            ("schemas", None) => {}
            _ => return refuse(),
        },
        Namespace::Core => {
            let child = matches!(
                (resource, top),
                (ResourceKind::User, "groups") | (ResourceKind::Group, "members")
            );
            if child {
                return match sub {
                    None | Some("value") | Some("display") => Ok(Target::Child { sub }),
                    _ => refuse(),
                };
            }
            // A password is never stored; filtering on one would be an oracle anyway.
            if top == "password" {
                return refuse();
            }
        }
        Namespace::Extension(_) => {}
    }
    if matches!(
        attr.ty,
        AttrType::Integer | AttrType::Decimal | AttrType::DateTime
    ) {
        // No User or Group attribute in the document has these types; refuse rather than guess.
        return refuse();
    }
    let mut keys = Vec::with_capacity(3);
    if let Namespace::Extension(ext) = attr.namespace {
        keys.push(ext.id);
    }
    keys.push(top);
    if attr.multi_valued {
        return Ok(Target::Json {
            keys,
            multi: true,
            element: sub,
            ty: attr.ty,
            case_exact: attr.case_exact,
        });
    }
    if let Some(s) = sub {
        keys.push(s);
    }
    Ok(Target::Json {
        keys,
        multi: false,
        element: None,
        ty: attr.ty,
        case_exact: attr.case_exact,
    })
}

/// Translates filters for one resource type on one backend (and, for custom attributes, one org).
#[derive(Debug, Clone)]
pub struct Translator {
    pub backend: Backend,
    pub resource: ResourceKind,
    /// The org whose custom attribute index a filter reads (tenant predicate of that subquery).
    pub org: Option<String>,
}

/// The scope leaves are read in: the resource's row, or one element of a collection inside a value path.
#[derive(Debug, Clone, Copy)]
enum Scope {
    Row,
    JsonElement,
    ChildRow,
}

impl Translator {
    pub fn new(backend: Backend, resource: ResourceKind) -> Translator {
        Translator {
            backend,
            resource,
            org: None,
        }
    }

    /// The same, reading `org`'s custom attribute index.
    pub fn for_org(mut self, org: &OrgId) -> Translator {
        self.org = Some(org.as_str().to_owned());
        self
    }

    /// The SQL condition for `filter`, parenthesised: it is ANDed after the tenant predicate, and a bare
    /// `a OR b` there would read as `(tenant AND a) OR b`.
    /// The filter as a boolean SQL expression. One comparison (an IdP's lookup by `userName`, `externalId`
    /// or `displayName`) keeps its statement prepared: there are only as many of those shapes as attributes
    /// and operators. A filter of several is prepared for each run (see [`Sql`]).
    pub fn filter(&self, filter: &ResolvedFilter) -> Result<Sql, ScimError> {
        let sql = self.node(filter, Scope::Row)?.parens();
        Ok(match filter {
            ResolvedFilter::Compare { .. } | ResolvedFilter::Present(_) => sql,
            _ => sql.uncached(),
        })
    }

    fn node(&self, f: &ResolvedFilter, scope: Scope) -> Result<Sql, ScimError> {
        Ok(match f {
            ResolvedFilter::And(a, b) => self
                .node(a, scope)?
                .parens()
                .push(" AND ")
                .append(self.node(b, scope)?.parens()),
            ResolvedFilter::Or(a, b) => self
                .node(a, scope)?
                .parens()
                .push(" OR ")
                .append(self.node(b, scope)?.parens()),
            ResolvedFilter::Not(a) => not(self.node(a, scope)?),
            ResolvedFilter::Present(attr) => self.leaf(attr, scope, &|t, o| Ok(t.present(o)))?,
            ResolvedFilter::Compare { attr, op, value } => match (op, value) {
                (CompareOp::Eq, TypedValue::Null) => not(self.leaf(attr, scope, &|t, o| Ok(t.present(o)))?),
                (CompareOp::Ne, TypedValue::Null) => self.leaf(attr, scope, &|t, o| Ok(t.present(o)))?,
                (CompareOp::Ne, v) => not(self.leaf(attr, scope, &|t, o| t.compare(o, CompareOp::Eq, v))?),
                (op, v) => self.leaf(attr, scope, &|t, o| t.compare(o, *op, v))?,
            },
            ResolvedFilter::ValuePath { attr, filter } => {
                if !matches!(scope, Scope::Row) {
                    return Err(ScimError::invalid_filter(
                        "A value filter '[...]' cannot contain another one.",
                    ));
                }
                match target(self.resource, attr)? {
                    Target::Json {
                        keys, multi: true, ..
                    } => {
                        let inner = self.node(filter, Scope::JsonElement)?;
                        self.json_exists(&keys, inner)
                    }
                    Target::Child { .. } => {
                        let inner = self.node(filter, Scope::ChildRow)?;
                        self.child_exists(inner)
                    }
                    // A singular complex attribute (`name[givenName eq "x"]`): its sub-attributes are
                    // plain paths of the row.
                    Target::Json { multi: false, .. } => self.node(filter, Scope::Row)?,
                    Target::Column { .. } | Target::Constant(_) | Target::Custom { .. } => {
                        return Err(ScimError::invalid_filter(format!(
                            "\"{}[...]\" cannot be used in a filter by this service provider.",
                            attr.path
                        )));
                    }
                }
            }
        })
    }

    /// A leaf: `cond` applied to the attribute's operand, wrapped in `EXISTS` over the values of a
    /// multi-valued attribute (outside a value path).
    fn leaf(
        &self,
        attr: &ResolvedAttr,
        scope: Scope,
        cond: &dyn Fn(&Translator, Operand) -> Result<Sql, ScimError>,
    ) -> Result<Sql, ScimError> {
        let target = target(self.resource, attr)?;
        match (scope, target) {
            (Scope::Row, Target::Column { sql, kind }) => cond(
                self,
                Operand {
                    sql: Sql::text(sql),
                    kind,
                },
            ),
            (Scope::Row, Target::Constant(c)) => cond(
                self,
                Operand {
                    sql: Sql::text("").bind_text(c),
                    kind: Kind::Text { ci: false },
                },
            ),
            (
                Scope::Row,
                Target::Json {
                    keys,
                    multi: false,
                    ty,
                    case_exact,
                    ..
                },
            ) => {
                let kind = json_kind(ty, case_exact);
                let sql = self.json_scalar(document(self.resource), &keys);
                cond(self, Operand { sql, kind })
            }
            (
                Scope::Row,
                Target::Json {
                    keys,
                    multi: true,
                    element,
                    ty,
                    case_exact,
                },
            ) => {
                let inner = cond(self, self.element_operand(element, ty, case_exact))?;
                Ok(self.json_exists(&keys, inner))
            }
            (Scope::Row, Target::Child { sub }) => {
                let inner = cond(self, self.child_operand(sub))?;
                Ok(self.child_exists(inner))
            }
            (
                Scope::Row,
                Target::Custom {
                    attribute,
                    ty,
                    case_exact,
                },
            ) => {
                let inner = cond(self, custom_operand(ty, case_exact))?;
                self.custom_in(&attribute, inner, &attr.path)
            }
            (
                Scope::JsonElement,
                Target::Json {
                    multi: true,
                    element,
                    ty,
                    case_exact,
                    ..
                },
            ) => cond(self, self.element_operand(element, ty, case_exact)),
            (Scope::ChildRow, Target::Child { sub }) => cond(self, self.child_operand(sub)),
            _ => Err(ScimError::invalid_filter(format!(
                "\"{}\" cannot be used inside this value filter.",
                attr.path
            ))),
        }
    }

    /// A scalar inside the document: SQLite `json_extract(doc, '$."a"."b"')`, PostgreSQL `doc::jsonb -> 'a' ->> 'b'`.
    fn json_scalar(&self, doc: &str, keys: &[&str]) -> Sql {
        match self.backend {
            Backend::Sqlite => Sql::text(&format!("json_extract({doc}, "))
                .bind_text(sqlite_path(keys))
                .push(")"),
            Backend::Postgres => {
                let mut sql = Sql::text(&format!("({doc}::jsonb"));
                for (i, k) in keys.iter().enumerate() {
                    sql = sql.push(if i + 1 == keys.len() { " ->> " } else { " -> " });
                    sql = sql.bind_text(*k);
                }
                sql.push(")")
            }
        }
    }

    /// The JSON array at `keys` as a PostgreSQL expression (`[]` when absent or not an array).
    fn pg_array(&self, keys: &[&str]) -> Sql {
        let doc = document(self.resource);
        let path = |mut sql: Sql| {
            for k in keys {
                sql = sql.push(" -> ").bind_text(*k);
            }
            sql
        };
        let arr = || path(Sql::text(&format!("{doc}::jsonb")));
        Sql::text("CASE WHEN jsonb_typeof(")
            .append(arr())
            .push(") = 'array' THEN ")
            .append(arr())
            .push(" ELSE '[]'::jsonb END")
    }

    fn json_exists(&self, keys: &[&str], cond: Sql) -> Sql {
        match self.backend {
            Backend::Sqlite => Sql::text(&format!(
                "EXISTS (SELECT 1 FROM json_each({}, ",
                document(self.resource)
            ))
            .bind_text(sqlite_path(keys))
            .push(") AS scim_e WHERE ")
            .append(cond)
            .push(")"),
            Backend::Postgres => Sql::text("EXISTS (SELECT 1 FROM jsonb_array_elements(")
                .append(self.pg_array(keys))
                .push(") AS scim_e(v) WHERE ")
                .append(cond)
                .push(")"),
        }
    }

    fn element_operand(&self, element: Option<&'static str>, ty: AttrType, case_exact: bool) -> Operand {
        let kind = json_kind(ty, case_exact);
        let sql = match (self.backend, element) {
            (Backend::Sqlite, Some(sub)) => Sql::text("json_extract(scim_e.value, ")
                .bind_text(sqlite_path(&[sub]))
                .push(")"),
            (Backend::Sqlite, None) => Sql::text("scim_e.value"),
            (Backend::Postgres, Some(sub)) => Sql::text("(scim_e.v ->> ").bind_text(sub).push(")"),
            (Backend::Postgres, None) => Sql::text("(scim_e.v #>> '{}')"),
        };
        Operand { sql, kind }
    }

    fn child_exists(&self, cond: Sql) -> Sql {
        let head = match self.resource {
            ResourceKind::User => {
                "EXISTS (SELECT 1 FROM group_members scim_gm JOIN groups scim_g ON scim_g.id = scim_gm.group_id \
                 WHERE scim_gm.member_id = members.id AND scim_gm.org_id = members.org_id AND "
            }
            ResourceKind::Group => {
                "EXISTS (SELECT 1 FROM group_members scim_gm JOIN members scim_m ON scim_m.id = scim_gm.member_id \
                 WHERE scim_gm.group_id = groups.id AND scim_gm.org_id = groups.org_id AND "
            }
        };
        Sql::text(head).append(cond.parens()).push(")")
    }

    /// `members.id IN (the org's members with a value of `attribute` satisfying `cond`)`: uncorrelated, so
    /// the planner can start from the index `(org_id, attribute, value)` instead of the org's members. A
    /// multi-valued attribute matches when any value does, as an `EXISTS` would.
    fn custom_in(&self, attribute: &str, cond: Sql, path: &str) -> Result<Sql, ScimError> {
        let Some(org) = &self.org else {
            return Err(ScimError::invalid_filter(format!(
                "\"{path}\" cannot be used in this filter."
            )));
        };
        Ok(Sql::text(
            "members.id IN (SELECT scim_av.member_id FROM member_attribute_values scim_av WHERE scim_av.org_id = ",
        )
        .bind_text(org.clone())
        .push(" AND scim_av.attribute = ")
        .bind_text(attribute)
        .push(" AND ")
        .append(cond.parens())
        .push(")"))
    }

    fn child_operand(&self, sub: Option<&'static str>) -> Operand {
        let (sql, kind) = match (self.resource, sub) {
            (ResourceKind::User, Some("display")) => ("scim_g.display_name", Kind::Text { ci: true }),
            (ResourceKind::User, _) => ("scim_gm.group_id", Kind::Text { ci: false }),
            (ResourceKind::Group, Some("display")) => (
                "COALESCE(scim_m.display_name, scim_m.user_name)",
                Kind::Text { ci: true },
            ),
            (ResourceKind::Group, _) => ("scim_gm.member_id", Kind::Text { ci: false }),
        };
        Operand {
            sql: Sql::text(sql),
            kind,
        }
    }

    fn present(&self, o: Operand) -> Sql {
        match o.kind {
            Kind::Text { .. } | Kind::Normalised => o
                .sql
                .clone()
                .parens()
                .push(" IS NOT NULL AND ")
                .append(o.sql.parens())
                .push(" <> ''"),
            Kind::Lowered => o
                .sql
                .clone()
                .parens()
                .push(" IS NOT NULL AND ")
                .append(o.sql.parens())
                .push(" <> ''"),
            Kind::Bool | Kind::JsonBool | Kind::Time | Kind::TextBool | Kind::Int | Kind::Dec => {
                o.sql.parens().push(" IS NOT NULL")
            }
            // Extracted as JSON text: assigned unless null or empty.
            Kind::JsonComplex => o
                .sql
                .clone()
                .parens()
                .push(" IS NOT NULL AND ")
                .append(json_nonempty(o.sql)),
        }
    }

    fn compare(&self, o: Operand, op: CompareOp, v: &TypedValue) -> Result<Sql, ScimError> {
        let mismatch = || {
            ScimError::invalid_filter(format!(
                "The value {v:?} cannot be compared here with \"{}\".",
                op.as_str()
            ))
        };
        let sym = match op {
            CompareOp::Eq | CompareOp::Ne => "=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "LIKE",
        };
        match (o.kind, v) {
            (Kind::Text { ci }, TypedValue::String(s)) => Ok(self.text_compare(o.sql, ci, op, sym, s)),
            (Kind::Normalised, TypedValue::String(s)) => {
                let norm = user_name::normalize(s);
                Ok(if op.is_substring() {
                    o.sql
                        .push(" LIKE ")
                        .bind_text(like_pattern(op, &norm))
                        .push(" ESCAPE '\\'")
                } else {
                    o.sql.push(&format!(" {sym} ")).bind_text(norm)
                })
            }
            (Kind::Bool, TypedValue::Boolean(b)) => Ok(o.sql.push(" = ").bind(Bind::Bool(*b))),
            (Kind::JsonBool, TypedValue::Boolean(b)) => Ok(match self.backend {
                Backend::Sqlite => o.sql.push(" = ").bind(Bind::Bool(*b)),
                Backend::Postgres => o.sql.push(" = ").bind_text(if *b { "true" } else { "false" }),
            }),
            (Kind::Lowered, TypedValue::String(s)) => {
                let low = s.to_lowercase();
                Ok(if op.is_substring() {
                    o.sql
                        .push(" LIKE ")
                        .bind_text(like_pattern(op, &low))
                        .push(" ESCAPE '\\'")
                } else {
                    o.sql.push(&format!(" {sym} ")).bind_text(low)
                })
            }
            (Kind::TextBool, TypedValue::Boolean(b)) => {
                Ok(o.sql.push(" = ").bind_text(if *b { "true" } else { "false" }))
            }
            (Kind::Int, TypedValue::Integer(n)) => Ok(o.sql.push(&format!(" {sym} ")).bind(Bind::BigInt(*n))),
            (Kind::Dec, TypedValue::Decimal(n)) => Ok(o.sql.push(&format!(" {sym} ")).bind(Bind::Double(*n))),
            (Kind::Dec, TypedValue::Integer(n)) => {
                Ok(o.sql.push(&format!(" {sym} ")).bind(Bind::Double(*n as f64)))
            }
            (Kind::Time, TypedValue::DateTime(t)) => Ok(o
                .sql
                .push(&format!(" {sym} "))
                .bind(Bind::Time(crate::clock::truncate_micros(t.naive_utc())))),
            _ => Err(mismatch()),
        }
    }

    fn text_compare(&self, x: Sql, ci: bool, op: CompareOp, sym: &str, s: &str) -> Sql {
        if ci {
            let lhs = Sql::text("lower(").append(x).push(")");
            if op.is_substring() {
                lhs.push(" LIKE lower(")
                    .bind_text(like_pattern(op, s))
                    .push(") ESCAPE '\\'")
            } else {
                lhs.push(&format!(" {sym} lower(")).bind_text(s).push(")")
            }
        } else if op.is_substring() {
            match self.backend {
                // SQLite's LIKE ignores ASCII case; GLOB does not.
                Backend::Sqlite => x.push(" GLOB ").bind_text(glob_pattern(op, s)),
                Backend::Postgres => x
                    .push(" LIKE ")
                    .bind_text(like_pattern(op, s))
                    .push(" ESCAPE '\\'"),
            }
        } else {
            x.push(&format!(" {sym} ")).bind_text(s)
        }
    }
}

/// The column of `member_attribute_values` holding a custom attribute's values, and how it compares.
fn custom_operand(ty: AttrType, case_exact: bool) -> Operand {
    let (col, kind) = match ty {
        AttrType::Boolean => ("scim_av.value_text", Kind::TextBool),
        AttrType::Integer => ("scim_av.value_int", Kind::Int),
        AttrType::Decimal => ("scim_av.value_dec", Kind::Dec),
        AttrType::DateTime => ("scim_av.value_time", Kind::Time),
        _ if case_exact => ("scim_av.value_text", Kind::Text { ci: false }),
        _ => ("scim_av.value_text", Kind::Lowered),
    };
    Operand {
        sql: Sql::text(col),
        kind,
    }
}

fn json_kind(ty: AttrType, case_exact: bool) -> Kind {
    match ty {
        AttrType::Boolean => Kind::JsonBool,
        AttrType::Complex => Kind::JsonComplex,
        _ => Kind::Text { ci: !case_exact },
    }
}

/// A complex value (extracted as JSON text) counts as assigned unless it is an empty object or array.
fn json_nonempty(x: Sql) -> Sql {
    x.parens().push(" NOT IN ('{}', '[]', 'null')")
}

/// `NOT ((x) IS TRUE)`: SQL's unknown counts as false before negation, as in the reference semantics.
fn not(x: Sql) -> Sql {
    Sql::text("NOT (").append(x.parens()).push(" IS TRUE)")
}

/// A SQLite JSON path with every key quoted: `$."urn:...:User"."employeeNumber"`.
fn sqlite_path(keys: &[&str]) -> String {
    let mut p = String::from("$");
    for k in keys {
        p.push_str(".\"");
        p.push_str(k);
        p.push('"');
    }
    p
}

/// The LIKE pattern for `co`/`sw`/`ew`, with `\`, `%` and `_` escaped (used with `ESCAPE '\'`).
pub(crate) fn like_pattern(op: CompareOp, s: &str) -> String {
    let mut esc = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            esc.push('\\');
        }
        esc.push(c);
    }
    match op {
        CompareOp::Sw => format!("{esc}%"),
        CompareOp::Ew => format!("%{esc}"),
        _ => format!("%{esc}%"),
    }
}

/// The SQLite GLOB pattern for a case-exact `co`/`sw`/`ew`, with `*`, `?` and `[` escaped as classes.
pub(crate) fn glob_pattern(op: CompareOp, s: &str) -> String {
    let mut esc = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '*' => esc.push_str("[*]"),
            '?' => esc.push_str("[?]"),
            '[' => esc.push_str("[[]"),
            c => esc.push(c),
        }
    }
    match op {
        CompareOp::Sw => format!("{esc}*"),
        CompareOp::Ew => format!("*{esc}"),
        _ => format!("*{esc}*"),
    }
}

/// An `ORDER BY` key for `sortBy`: the expression and whether it may be NULL. Sorting by a multi-valued
/// attribute sorts by its primary value (RFC 7644 §3.4.2.3), which scimd keeps for `emails` only.
pub fn sort_key(backend: Backend, resource: ResourceKind, attr: &ResolvedAttr) -> Result<Sql, ScimError> {
    let t = Translator::new(backend, resource);
    if resource == ResourceKind::User && (attr.path == "emails.value" || attr.path == "emails") {
        return Ok(Sql::text("lower(members.email)"));
    }
    match target(resource, attr) {
        Ok(Target::Column { sql, kind }) => Ok(match kind {
            Kind::Text { ci: true } => Sql::text("lower(").push(sql).push(")"),
            _ => Sql::text(sql),
        }),
        Ok(Target::Json {
            keys,
            multi: false,
            ty,
            case_exact,
            ..
        }) if ty != AttrType::Complex => {
            let x = t.json_scalar(document(resource), &keys);
            Ok(if case_exact {
                x
            } else {
                Sql::text("lower(").append(x).push(")")
            })
        }
        _ => Err(ScimError::invalid_value(format!(
            "\"sortBy\": this service provider cannot sort by \"{}\".",
            attr.path
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimd_scim::filter;
    use scimd_scim::schema::{GROUP, USER};

    fn sql(backend: Backend, resource: ResourceKind, f: &str) -> Result<Sql, ScimError> {
        let schema = match resource {
            ResourceKind::User => &USER,
            ResourceKind::Group => &GROUP,
        };
        let resolved = filter::resolve(&filter::parse(f)?, schema)?;
        Translator::new(backend, resource).filter(&resolved)
    }

    #[test]
    fn user_name_eq_uses_the_normalised_column_with_one_bind() {
        let s = sql(
            Backend::Sqlite,
            ResourceKind::User,
            r#"userName eq "Bjensen@Example.com""#,
        )
        .unwrap();
        assert_eq!(s.render(), "(members.user_name_norm = ?)");
        assert_eq!(s.bind_count(), 1);
    }

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(like_pattern(CompareOp::Co, "50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(like_pattern(CompareOp::Sw, "x"), "x%");
        assert_eq!(glob_pattern(CompareOp::Ew, "a*?[b"), "*a[*][?][[]b");
    }

    #[test]
    fn multi_valued_attributes_use_exists_on_both_backends() {
        let s = sql(Backend::Sqlite, ResourceKind::User, r#"emails[type eq "work"]"#).unwrap();
        assert!(
            s.render()
                .starts_with("(EXISTS (SELECT 1 FROM json_each(members.document, ?)"),
            "{}",
            s.render()
        );
        let s = sql(Backend::Postgres, ResourceKind::User, r#"emails.value co "x""#).unwrap();
        assert!(s.render().contains("jsonb_array_elements"), "{}", s.render());
    }

    #[test]
    fn untranslatable_attributes_are_refused() {
        for f in [
            r#"meta.location eq "x""#,
            r#"password eq "x""#,
            r#"meta.version eq "x""#,
        ] {
            let e = sql(Backend::Sqlite, ResourceKind::User, f).unwrap_err();
            assert_eq!(e.scim_type, Some(scimd_scim::ScimType::InvalidFilter), "{f}");
        }
        assert!(sql(Backend::Sqlite, ResourceKind::Group, r#"members.type eq "User""#).is_err());
    }

    #[test]
    fn ne_and_not_treat_unknown_as_false() {
        let s = sql(Backend::Sqlite, ResourceKind::User, r#"externalId ne "x""#).unwrap();
        assert_eq!(s.render(), "(NOT ((members.external_id = ?) IS TRUE))");
        let s = sql(Backend::Sqlite, ResourceKind::User, r#"id pr or userName pr"#).unwrap();
        assert!(
            s.render().starts_with("((") && s.render().ends_with("))"),
            "{}",
            s.render()
        );
    }
}
