//! HTTP plumbing shared by the simulator's handlers: body type, responses, query strings.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::status::ApiError;

pub type Body = BoxBody<Bytes, Infallible>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

pub fn response(
    code: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = code;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

pub fn json(code: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    response(code, "application/json", body)
}

pub fn json_value(code: StatusCode, value: &serde_json::Value) -> Response<Body> {
    json(code, serde_json::to_vec(value).unwrap_or_default())
}

pub fn error(err: &ApiError) -> Response<Body> {
    let code = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_value(code, &err.to_status())
}

/// A streamed body: every `Bytes` sent on the channel goes out as one chunk, flushed at once; the
/// response ends when the sender is dropped.
pub fn streaming(
    content_type: &'static str,
    buffer: usize,
) -> (mpsc::Sender<Bytes>, Response<Body>) {
    let (tx, rx) = mpsc::channel::<Bytes>(buffer.max(1));
    let stream = ReceiverStream::new(rx).map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (tx, resp)
}

/// A parsed query string. Repeated keys keep their first value, as the API server reads them.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// The same query with `key` set (first occurrence wins, so the new pair goes in front).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.pairs.insert(0, (key.to_string(), value.to_string()));
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean flag as the API server parses it (`true`, `1`; absent = false).
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("") | Some("false") | Some("0") | Some("False") => Ok(false),
            Some("true") | Some("1") | Some("True") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "invalid value for {key}: strconv.ParseBool: parsing {v:?}: invalid syntax"
            ))),
        }
    }

    /// An integer parameter; a malformed one is a 400 naming it.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid value for {key}: strconv.ParseInt: parsing {v:?}: invalid syntax"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = Query::parse(Some(
            "watch=1&labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5&x=bad",
        ));
        assert!(q.flag("watch").unwrap());
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert_eq!(q.int("limit").unwrap(), Some(5));
        assert!(q.int("x").is_err());
        assert!(!q.flag("follow").unwrap());
    }
}
