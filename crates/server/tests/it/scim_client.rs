//! The tests' HTTP client: a small HTTP/1.1 client that speaks JSON to the app (or to a `scimd` process)
//! over a fresh connection per request, as an IdP would. Also the table-driven step runner the IdP replays
//! are written in.

use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        let parsed = serde_json::from_str(&self.body);
        assert!(parsed.is_ok(), "not a JSON body: {}", self.body);
        parsed.unwrap()
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub addr: SocketAddr,
    /// `/scim/v2/{org}`.
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub fn with_base(&self, base: String) -> Client {
        Client { base, ..self.clone() }
    }

    pub fn with_token(&self, token: Option<&str>) -> Client {
        Client {
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    /// One request over a fresh connection. `path` is relative to the base URL; `extra` adds headers.
    pub fn send(&self, method: &str, path: &str, body: Option<&str>, extra: &[(&str, &str)]) -> Reply {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let target = format!("{}{}", self.base, encode_query(path));
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(t) = &self.token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let has_ct = extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            if !has_ct {
                head.push_str("Content-Type: application/scim+json\r\n");
            }
            head.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        if let Some(b) = body {
            stream.write_all(b.as_bytes()).unwrap();
        }
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse(&raw)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[])
    }
}

/// Percent-encodes the characters of a filter that cannot appear in a request line.
fn encode_query(path: &str) -> String {
    let Some((p, q)) = path.split_once('?') else {
        return path.to_owned();
    };
    let mut out = String::with_capacity(q.len() * 2);
    for c in q.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '"' => out.push_str("%22"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            '#' => out.push_str("%23"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    format!("{p}?{out}")
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// What a step checks in the response body, at a JSON pointer.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Equals this JSON.
    Is(&'static str),
    /// Absent.
    Absent,
    /// An array of this length.
    Len(usize),
}

/// One request of a replayed sequence. `{name}` in `path` and `body` is replaced by a saved value.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub what: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub body: Option<&'static str>,
    pub status: u16,
    pub expect: &'static [(&'static str, Expect)],
    /// Saves the value at a JSON pointer under a name for later steps.
    pub save: &'static [(&'static str, &'static str)],
}

/// Runs `steps` in order; returns the saved values and what each step answered, as
/// `{"step", "status", "body"}` with the saved values (ids) and every `meta` time and version redacted, for a
/// snapshot.
pub fn replay(client: &Client, steps: &[Step], label: &str) -> (HashMap<String, String>, Vec<Value>) {
    replay_each(client, steps, label, |_, _| {})
}

/// [`replay`], calling `after` once each step has been answered and checked, with the step and the values
/// saved so far: for a test that checks what each step of a replay caused (its events, SETs or roles).
pub fn replay_each(
    client: &Client,
    steps: &[Step],
    label: &str,
    mut after: impl FnMut(&Step, &HashMap<String, String>),
) -> (HashMap<String, String>, Vec<Value>) {
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut transcript = Vec::new();
    let fill = |s: &str, vars: &HashMap<String, String>| {
        let mut s = s.to_owned();
        for (k, v) in vars {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    for step in steps {
        let path = fill(step.path, &vars);
        let body = step.body.map(|b| fill(b, &vars));
        let r = client.send(step.method, &path, body.as_deref(), &[]);
        assert_eq!(
            r.status, step.status,
            "{label}: {}: {} {path}: {}",
            step.what, step.method, r.body
        );
        if (200..300).contains(&r.status) && !r.body.is_empty() {
            assert_eq!(
                r.header("content-type"),
                Some("application/scim+json"),
                "{label}: {}",
                step.what
            );
        }
        let json = r.json();
        for (pointer, expect) in step.expect {
            let pointer = fill(pointer, &vars);
            let got = json.pointer(&pointer);
            match expect {
                Expect::Is(v) => {
                    let want: Value = serde_json::from_str(&fill(v, &vars)).unwrap();
                    assert_eq!(got, Some(&want), "{label}: {}: {pointer} in {json}", step.what);
                }
                Expect::Absent => assert!(got.is_none(), "{label}: {}: {pointer} in {json}", step.what),
                Expect::Len(n) => assert_eq!(
                    got.and_then(Value::as_array).map(Vec::len),
                    Some(*n),
                    "{label}: {}: {pointer} in {json}",
                    step.what
                ),
            }
        }
        for (name, pointer) in step.save {
            let v = json.pointer(pointer).and_then(Value::as_str);
            assert!(
                v.is_some(),
                "{label}: {}: no string at {pointer} in {json}",
                step.what
            );
            let v = v.unwrap();
            vars.insert((*name).to_owned(), v.to_owned());
        }
        transcript.push(serde_json::json!({
            "step": step.what,
            "status": r.status,
            "body": redacted(json, &vars),
        }));
        after(step, &vars);
    }
    (vars, transcript)
}

/// `s` with every UUID (ids not saved by name) replaced by `[id]`.
fn without_uuids(s: &str) -> String {
    let is_uuid = |w: &[u8]| {
        w.len() == 36
            && w.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    let bytes = s.as_bytes();
    let (mut out, mut i) = (String::new(), 0);
    while i < bytes.len() {
        if i + 36 <= bytes.len() && is_uuid(&bytes[i..i + 36]) {
            out.push_str("[id]");
            i += 36;
        } else {
            let c = s[i..].chars().next().unwrap_or('?');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// A response body with what changes from run to run replaced: saved ids by `[name]` (also inside URLs),
/// and `meta.created`, `meta.lastModified` and `meta.version` by placeholders.
fn redacted(mut body: Value, vars: &HashMap<String, String>) -> Value {
    fn walk(v: &mut Value, vars: &HashMap<String, String>) {
        match v {
            Value::String(s) => {
                for (name, value) in vars {
                    if s.contains(value.as_str()) {
                        *s = s.replace(value.as_str(), &format!("[{name}]"));
                    }
                }
                *s = without_uuids(s);
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, vars)),
            Value::Object(o) => {
                for (key, value) in o.iter_mut() {
                    match key.as_str() {
                        "created" | "lastModified" => *value = Value::String("[time]".into()),
                        "version" => *value = Value::String("[version]".into()),
                        "location" | "$ref" => {
                            if let Value::String(s) = value
                                && let Some(i) = s.find("/scim/v2/")
                            {
                                *s = format!("[base]{}", &s[i..]);
                            }
                            walk(value, vars);
                        }
                        _ => walk(value, vars),
                    }
                }
            }
            _ => {}
        }
    }
    walk(&mut body, vars);
    body
}
