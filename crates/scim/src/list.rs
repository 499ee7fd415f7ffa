//! Listing and searching (RFC 7644 §3.4.2, §3.4.3; cursors of RFC 9865): [`ListQuery`] from URL query
//! parameters or a [`SearchRequest`] body (`POST /.search`), and the [`ListResponse`] builder.

use crate::error::ScimError;
use crate::filter::resolve::resolve_path;
use crate::filter::{self, AttrPath, Filter, ResolvedAttr, ResolvedFilter};
use crate::schema::{AttrType, ResourceSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest page served; a larger `count` is lowered to it (RFC 7644 §3.4.2.4 lets the service provider
/// return fewer results than asked). Advertised as `filter.maxResults` in `/ServiceProviderConfig`.
pub const MAX_COUNT: u64 = 1000;
/// The page size when the client gives no `count`.
pub const DEFAULT_COUNT: u64 = 100;
/// The URN of a ListResponse.
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The URN of a SearchRequest.
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// `sortOrder`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// The default.
    #[default]
    Ascending,
    /// `descending`.
    Descending,
}

/// The parameters of a list or search request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The parsed filter (resolve it with [`ListQuery::resolve_filter`]).
    pub filter: Option<Filter>,
    /// The 1-based index of the first result; values below 1 become 1.
    pub start_index: u64,
    /// The page size asked for, clamped to `0..=MAX_COUNT`; `None` means [`DEFAULT_COUNT`].
    pub count: Option<u64>,
    /// The attribute to sort by.
    pub sort_by: Option<AttrPath>,
    /// The sort order.
    pub sort_order: SortOrder,
    /// `attributes`, split on commas.
    pub attributes: Vec<String>,
    /// `excludedAttributes`, split on commas.
    pub excluded_attributes: Vec<String>,
    /// RFC 9865 `cursor`: `Some("")` asks for the first page of cursor pagination.
    pub cursor: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filter: None,
            start_index: 1,
            count: None,
            sort_by: None,
            sort_order: SortOrder::Ascending,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
            cursor: None,
        }
    }
}

/// A `POST /.search` body (RFC 7644 §3.4.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// Must contain [`SEARCH_REQUEST_URN`].
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Attributes to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
    /// Attributes not to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_attributes: Option<Vec<String>>,
    /// The filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The attribute to sort by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// `ascending` or `descending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<String>,
    /// The 1-based index of the first result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<i64>,
    /// The page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// RFC 9865 cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The entries of `attributes` / `excludedAttributes` values, split on commas, within
/// [`crate::limits::MAX_PROJECTION_ENTRIES`] and [`crate::limits::MAX_PROJECTION_ENTRY_BYTES`].
fn split_list<'a>(param: &str, values: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, ScimError> {
    crate::limits::projection_list(
        param,
        values
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty()),
    )
}

fn integer(name: &str, v: &str) -> Result<i64, ScimError> {
    v.trim().parse::<i64>().map_err(|_| {
        ScimError::invalid_value(format!(
            "\"{name}\" must be an integer, not \"{}\".",
            v.chars().take(40).collect::<String>()
        ))
    })
}

fn sort_order(v: &str) -> Result<SortOrder, ScimError> {
    if v.eq_ignore_ascii_case("ascending") {
        Ok(SortOrder::Ascending)
    } else if v.eq_ignore_ascii_case("descending") {
        Ok(SortOrder::Descending)
    } else {
        Err(ScimError::invalid_value(
            "\"sortOrder\" must be \"ascending\" or \"descending\".",
        ))
    }
}

fn sort_by(v: &str) -> Result<AttrPath, ScimError> {
    AttrPath::parse(v.trim()).map_err(|e| ScimError::invalid_value(format!("\"sortBy\": {e}.")))
}

impl ListQuery {
    /// From URL query parameters (already percent-decoded). Parameter names are matched
    /// case-insensitively; unknown parameters are ignored.
    pub fn from_query_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ScimError> {
        let mut q = Self::default();
        let mut start_index_given = false;
        let (mut attributes, mut excluded) = (Vec::new(), Vec::new());
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            match k.to_ascii_lowercase().as_str() {
                "filter" => q.filter = Some(filter::parse(v)?),
                "startindex" => {
                    start_index_given = true;
                    q.start_index = clamp_start(integer("startIndex", v)?);
                }
                "count" => q.count = Some(clamp_count(integer("count", v)?)),
                "sortby" => q.sort_by = Some(sort_by(v)?),
                "sortorder" => q.sort_order = sort_order(v)?,
                "attributes" => attributes.push(v.to_owned()),
                "excludedattributes" => excluded.push(v.to_owned()),
                "cursor" => q.cursor = Some(v.to_owned()),
                _ => {}
            }
        }
        q.attributes = split_list("attributes", attributes.iter().map(String::as_str))?;
        q.excluded_attributes = split_list("excludedAttributes", excluded.iter().map(String::as_str))?;
        q.check_pagination(start_index_given)?;
        Ok(q)
    }

    /// From a `POST /.search` body.
    pub fn from_search_request(req: &SearchRequest) -> Result<Self, ScimError> {
        if !req
            .schemas
            .iter()
            .any(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST_URN))
        {
            return Err(ScimError::invalid_syntax(format!(
                "A search body must list \"{SEARCH_REQUEST_URN}\" in \"schemas\"."
            )));
        }
        let q = Self {
            filter: req.filter.as_deref().map(filter::parse).transpose()?,
            start_index: req.start_index.map_or(1, clamp_start),
            count: req.count.map(clamp_count),
            sort_by: req.sort_by.as_deref().map(sort_by).transpose()?,
            sort_order: req
                .sort_order
                .as_deref()
                .map(sort_order)
                .transpose()?
                .unwrap_or_default(),
            attributes: split_list("attributes", req.attributes.iter().flatten().map(String::as_str))?,
            excluded_attributes: split_list(
                "excludedAttributes",
                req.excluded_attributes.iter().flatten().map(String::as_str),
            )?,
            cursor: req.cursor.clone(),
        };
        q.check_pagination(req.start_index.is_some())?;
        Ok(q)
    }

    fn check_pagination(&self, start_index_given: bool) -> Result<(), ScimError> {
        if start_index_given && self.cursor.is_some() {
            return Err(ScimError::invalid_value(
                "Use either \"startIndex\" or \"cursor\" pagination, not both (RFC 9865).",
            ));
        }
        Ok(())
    }

    /// The projection of this query's `attributes` / `excludedAttributes`, compiled once for every
    /// document of the response.
    pub fn selection<'s>(&self, schema: &'s ResourceSchema) -> crate::projection::Selection<'s> {
        crate::projection::Selection::new(schema, &self.attributes, &self.excluded_attributes)
    }

    /// The page size to serve.
    pub fn page_size(&self) -> u64 {
        self.count.unwrap_or(DEFAULT_COUNT)
    }

    /// The filter resolved against the resource type (unknown attributes and misused operators are
    /// `invalidFilter`).
    pub fn resolve_filter(&self, schema: &ResourceSchema) -> Result<Option<ResolvedFilter>, ScimError> {
        self.filter
            .as_ref()
            .map(|f| filter::resolve(f, schema))
            .transpose()
    }

    /// `filter` resolved against the resource type and the org's custom attributes.
    pub fn resolve_filter_with(
        &self,
        schema: &ResourceSchema,
        custom: &crate::schema::CustomSchema,
    ) -> Result<Option<ResolvedFilter>, ScimError> {
        self.filter
            .as_ref()
            .map(|f| filter::resolve::resolve_with(f, schema, custom))
            .transpose()
    }

    /// Whether the filter names the custom attributes' extension (the org's declarations are then needed).
    pub fn filter_names_custom(&self) -> bool {
        self.filter.as_ref().is_some_and(|f| {
            f.to_string()
                .to_ascii_lowercase()
                .contains(&crate::schema::CUSTOM_USER_URN.to_ascii_lowercase())
        })
    }

    /// `sortBy` resolved against the resource type; sorting by a complex attribute is `invalidValue`.
    pub fn resolve_sort(&self, schema: &ResourceSchema) -> Result<Option<ResolvedAttr>, ScimError> {
        let Some(p) = &self.sort_by else { return Ok(None) };
        let attr = resolve_path(p, schema, None)
            .map_err(|e| ScimError::invalid_value(format!("\"sortBy\": {}", e.detail)))?;
        if attr.ty == AttrType::Complex {
            return Err(ScimError::invalid_value(format!(
                "\"sortBy\": \"{}\" is complex; sort by one of its sub-attributes.",
                attr.path
            )));
        }
        Ok(Some(attr))
    }
}

fn clamp_start(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0).max(1)
}

fn clamp_count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0).min(MAX_COUNT)
}

/// A ListResponse (RFC 7644 §3.4.2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListResponse {
    /// The number of results the query matches in total.
    pub total_results: u64,
    /// The 1-based index of the first result (omitted with cursor pagination).
    pub start_index: Option<u64>,
    /// The resources of this page, already projected.
    pub resources: Vec<Value>,
    /// RFC 9865 `nextCursor`.
    pub next_cursor: Option<String>,
    /// RFC 9865 `previousCursor`.
    pub previous_cursor: Option<String>,
}

impl ListResponse {
    /// An index-paginated page.
    pub fn new(total_results: u64, start_index: u64, resources: Vec<Value>) -> Self {
        Self {
            total_results,
            start_index: Some(start_index),
            resources,
            ..Self::default()
        }
    }

    /// A cursor-paginated page.
    pub fn with_cursors(
        total_results: u64,
        resources: Vec<Value>,
        next_cursor: Option<String>,
        previous_cursor: Option<String>,
    ) -> Self {
        Self {
            total_results,
            start_index: None,
            resources,
            next_cursor,
            previous_cursor,
        }
    }

    /// The JSON body. `itemsPerPage` is the number of resources on this page.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "schemas".into(),
            Value::Array(vec![Value::String(LIST_RESPONSE_URN.into())]),
        );
        m.insert("totalResults".into(), Value::from(self.total_results));
        m.insert("itemsPerPage".into(), Value::from(self.resources.len()));
        if let Some(s) = self.start_index {
            m.insert("startIndex".into(), Value::from(s));
        }
        if let Some(c) = &self.next_cursor {
            m.insert("nextCursor".into(), Value::String(c.clone()));
        }
        if let Some(c) = &self.previous_cursor {
            m.insert("previousCursor".into(), Value::String(c.clone()));
        }
        m.insert("Resources".into(), Value::Array(self.resources.clone()));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_parameters_are_clamped() {
        let q = ListQuery::from_query_pairs([
            ("startIndex", "0"),
            ("count", "5000"),
            ("SORTORDER", "Descending"),
        ]);
        let q = q.unwrap_or_default();
        assert_eq!(
            (q.start_index, q.count, q.sort_order),
            (1, Some(MAX_COUNT), SortOrder::Descending)
        );
        let q = ListQuery::from_query_pairs([("count", "-3")]).unwrap_or_default();
        assert_eq!(q.count, Some(0));
        assert!(ListQuery::from_query_pairs([("count", "ten")]).is_err());
        assert!(ListQuery::from_query_pairs([("startIndex", "2"), ("cursor", "")]).is_err());
    }

    #[test]
    fn empty_list_response() {
        let body = ListResponse::new(0, 1, vec![]).to_value();
        assert_eq!(
            body,
            json!({"schemas": [LIST_RESPONSE_URN], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1,
                   "Resources": []})
        );
    }
}
