//! Reading a resource: list (selectors, `limit`/`continue`, Table output) and get.

use std::sync::Arc;

use http::{Response, StatusCode};

use super::api::Call;
use super::http::{self as h, Body};
use super::kinds::Res;
use super::object::SimObject;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{Key, Selection, Stored};
use super::table::{self, IncludeObject, TableObject};
use super::views;

pub use super::delete::{delete, delete_collection};
pub use super::watch::watch;
pub use super::write::{create, patch, update};

/// The bounds every served kind meets.
pub trait Served: SimObject + TableObject {}
impl<T: SimObject + TableObject> Served for T {}

/// Which objects a list, watch or deletecollection selects.
pub struct Filter {
    pub res: Res,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn from_call(call: &Call) -> Result<Self, ApiError> {
        let labels = LabelSelector::parse(call.query.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut raw_fields = call.query.get("fieldSelector").unwrap_or("").to_string();
        // `GET .../pods/x?watch=1` watches one object: the same as fieldSelector=metadata.name=x.
        if let Some(name) = &call.path.name {
            if !raw_fields.is_empty() {
                raw_fields.push(',');
            }
            raw_fields.push_str(&format!("metadata.name={name}"));
        }
        let fields =
            FieldSelector::parse(&raw_fields).map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Self {
            res: call.path.info.res,
            namespace: call.path.namespace.clone(),
            labels,
            fields,
        })
    }

    /// Refuses a field selector naming a field `T` does not support, even when nothing would match.
    pub fn validate<T: SimObject>(&self) -> Result<(), ApiError> {
        let blank = T::default();
        self.fields
            .matches(|path| blank.field(&views::field_path(self.res, path)))
            .map(|_| ())
            .map_err(|field| ApiError::bad_request(format!("field label not supported: {field}")))
    }

    /// `matches` for an object in the table, decoded only when a selector looks inside it (pods
    /// are kept as JSON: an unfiltered list of thousands then costs no decoding).
    pub fn admits<T: SimObject>(&self, key: &Key, stored: &Stored<T>) -> Result<bool, ApiError> {
        if self.labels.is_empty() && self.fields.is_empty() {
            return Ok(self.namespace.as_ref().is_none_or(|ns| key.0 == *ns));
        }
        self.matches(&*stored.obj())
    }

    /// The same judgement on the selectable state kept in watch history (fields were validated
    /// up front, so an unsupported one cannot occur here).
    pub fn matches_selection<T: SimObject>(&self, sel: &Selection) -> bool {
        if let Some(ns) = &self.namespace
            && sel.namespace != *ns
        {
            return false;
        }
        self.labels.matches(sel.labels.as_ref())
            && self
                .fields
                .matches(|path| sel.field::<T>(&views::field_path(self.res, path)))
                .unwrap_or(false)
    }

    pub fn matches<T: SimObject>(&self, obj: &T) -> Result<bool, ApiError> {
        let meta = obj.metadata();
        if let Some(ns) = &self.namespace
            && meta.namespace.as_deref() != Some(ns.as_str())
        {
            return Ok(false);
        }
        if !self.labels.matches(meta.labels.as_ref()) {
            return Ok(false);
        }
        self.fields
            .matches(|path| obj.field(&views::field_path(self.res, path)))
            .map_err(|field| ApiError::bad_request(format!("field label not supported: {field}")))
    }
}

/// Continue tokens are opaque to clients; ours name the last key served.
fn encode_continue(rv: u64, key: &Key) -> String {
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    format!("{rv}-{}-{}", hex(&key.0), hex(&key.1))
}

fn decode_continue(token: &str) -> Result<Key, ApiError> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let unhex = |s: &str| -> Option<String> {
        if !s.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
            .collect();
        String::from_utf8(bytes?).ok()
    };
    let mut parts = token.splitn(3, '-');
    let (_rv, ns, name) = (parts.next(), parts.next(), parts.next());
    match (ns.and_then(unhex), name.and_then(unhex)) {
        (Some(ns), Some(name)) => Ok((ns, name)),
        _ => Err(bad()),
    }
}

pub fn list<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_call(call)?;
    filter.validate::<T>()?;
    let limit = call
        .query
        .int("limit")?
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let after = call
        .query
        .get("continue")
        .filter(|c| !c.is_empty())
        .map(decode_continue)
        .transpose()?;
    let (items, rv, next) = {
        let store = call.cluster.store();
        let rv = store.resource_version();
        let mut items: Vec<Stored<T>> = Vec::new();
        let mut last: Option<&Key> = None;
        let mut next = None;
        for (key, stored) in T::table(&store).range(filter.namespace.as_deref(), after.as_ref()) {
            if !filter.admits(key, stored)? {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                next = last.cloned();
                break;
            }
            items.push(stored.clone());
            last = Some(key);
        }
        (items, rv, next)
    };
    let token = next.map(|k| encode_continue(rv, &k));
    if call.wants_table() {
        let include =
            IncludeObject::parse(call.query.get("includeObject")).map_err(ApiError::bad_request)?;
        let objs: Vec<Arc<T>> = items.iter().map(Stored::obj).collect();
        let refs: Vec<&T> = objs.iter().map(|o| &**o).collect();
        let t = table::table(
            &refs,
            call.cluster.now(),
            include,
            &rv.to_string(),
            token.as_deref(),
        );
        return Ok(h::json_value(StatusCode::OK, &t));
    }
    Ok(list_body(call, rv, token.as_deref(), &items))
}

/// A `<Kind>List` in the requested version, built by concatenating the stored JSON.
pub(super) fn list_body<T: SimObject>(
    call: &Call,
    rv: u64,
    token: Option<&str>,
    items: &[Stored<T>],
) -> Response<Body> {
    let info = call.path.info;
    let mut body = Vec::with_capacity(items.len() * 3000 + 256);
    body.extend_from_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"",
            info.kind,
            info.api_version()
        )
        .as_bytes(),
    );
    if let Some(token) = token {
        body.extend_from_slice(format!(",\"continue\":\"{token}\"").as_bytes());
    }
    body.extend_from_slice(b"},\"items\":[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&views::render(info.res, &s.json()));
    }
    body.extend_from_slice(b"]}");
    h::json(StatusCode::OK, body)
}

pub(super) fn not_found(call: &Call) -> ApiError {
    let info = call.path.info;
    ApiError::not_found(info.plural, info.group, call.name())
}

pub(super) fn fetch<T: Served>(call: &Call) -> Result<Stored<T>, ApiError> {
    let store = call.cluster.store();
    T::table(&store)
        .get(call.namespace(), call.name())
        .cloned()
        .ok_or_else(|| not_found(call))
}

/// One object in the form the request asked for (JSON in the requested version, or a Table).
pub fn respond<T: Served>(
    call: &Call,
    code: StatusCode,
    stored: &Stored<T>,
) -> Result<Response<Body>, ApiError> {
    if call.wants_table() && call.method == http::Method::GET {
        let include =
            IncludeObject::parse(call.query.get("includeObject")).map_err(ApiError::bad_request)?;
        let t = table::table_for_object(&*stored.obj(), call.cluster.now(), include, true);
        return Ok(h::json_value(code, &t));
    }
    Ok(h::json(
        code,
        views::render(call.path.info.res, &stored.json()),
    ))
}

pub fn get<T: Served>(call: &Call) -> Result<Response<Body>, ApiError> {
    let stored = fetch::<T>(call)?;
    respond(call, StatusCode::OK, &stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let key = ("shop".to_string(), "web-1".to_string());
        let token = encode_continue(42, &key);
        assert_eq!(decode_continue(&token).unwrap(), key);
        assert!(decode_continue("garbage").is_err());
        assert!(decode_continue("1-zz-00").is_err());
    }
}
