//! The Data Plane's connector list, `GET /v1/kafka-connect/clusters/{cluster}/connectors`:
//! `{"connectors": [{name, info, status: ConnectorStatus}], "next_page_token"}`, one page at a
//! time. A page is read as it streams in: entries nobody asked for are dropped as soon as they are
//! read, each kept status is bounded as a single status answer is, and a page may not hold more
//! than [`MAX_PAGE_ENTRIES`] entries whatever size the server chose.

use super::{ObjectOrNot, StatusLevel, StatusResponse};
use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use url::Url;

/// Largest page size the operator asks for, and the most entries a page may hold.
pub const MAX_PAGE_ENTRIES: usize = 1000;
/// Longest page token accepted (it is sent back in a URL).
const MAX_PAGE_TOKEN: usize = 4096;

/// One page, reduced to the entries asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Entries whose name was wanted: (connector name, status).
    pub entries: Vec<(String, StatusResponse)>,
    /// Wanted entries named without a status: they exist, their state is not on the page.
    pub unstated: Vec<String>,
    /// Entries on the page, wanted or not.
    pub seen: usize,
    /// Token of the next page; `None` on the last page (the server sends `""`).
    pub next_page_token: Option<String>,
}

/// The list endpoint's URL for one page.
pub fn list_url(
    base: &Url,
    cluster: &str,
    page_size: u32,
    page_token: Option<&str>,
) -> Result<Url, String> {
    let size = page_size.to_string();
    let mut query = vec![("page_size", size.as_str())];
    if let Some(token) = page_token {
        query.push(("page_token", token));
    }
    crate::http::endpoint_url(
        base,
        &["v1", "kafka-connect", "clusters", cluster, "connectors"],
        &query,
    )
}

/// Parses one page, keeping the entries whose connector name `wanted` accepts.
pub fn parse_list_page(
    body: &[u8],
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Result<ListPage, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let page = PageSeed { wanted }
        .deserialize(&mut de)
        .map_err(|e| crate::probe::describe_json_error(&e))?;
    de.end()
        .map_err(|e| crate::probe::describe_json_error(&e))?;
    Ok(page)
}

struct PageSeed<'w> {
    wanted: &'w (dyn Fn(&str) -> bool + Sync),
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = ListPage;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<ListPage, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = ListPage;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a connector list page")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListPage, A::Error> {
        let mut page = ListPage::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "connectors" => {
                    map.next_value_seed(EntriesSeed {
                        wanted: self.wanted,
                        page: &mut page,
                    })?;
                }
                "next_page_token" => {
                    let token = map.next_value::<Option<String>>()?.unwrap_or_default();
                    if token.len() > MAX_PAGE_TOKEN {
                        return Err(serde::de::Error::custom(format!(
                            "next_page_token longer than {MAX_PAGE_TOKEN} bytes"
                        )));
                    }
                    page.next_page_token = (!token.is_empty()).then_some(token);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

struct EntriesSeed<'w, 'p> {
    wanted: &'w (dyn Fn(&str) -> bool + Sync),
    page: &'p mut ListPage,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of connectors")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            self.page.seen += 1;
            if self.page.seen > MAX_PAGE_ENTRIES {
                return Err(serde::de::Error::custom(format!(
                    "a page holds more than {MAX_PAGE_ENTRIES} connectors"
                )));
            }
            let Some(answer) = entry.status else {
                if let Some(name) = entry.name.filter(|n| !n.is_empty() && (self.wanted)(n)) {
                    self.page.unstated.push(name);
                }
                continue;
            };
            let status = answer.into_response();
            let name = entry.name.unwrap_or_else(|| status.status.name.clone());
            if !name.is_empty() && (self.wanted)(&name) {
                self.page.entries.push((name, status));
            }
        }
        Ok(())
    }
}

/// One list entry: its name and its status; `info` (the connector's config) is skipped unread.
struct Entry {
    name: Option<String>,
    status: Option<StatusLevel>,
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = Entry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a connector entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
                let mut entry = Entry {
                    name: None,
                    status: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" => entry.name = map.next_value()?,
                        "status" => entry.status = map.next_value::<ObjectOrNot>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(entry)
            }
        }
        d.deserialize_map(EntryVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(_: &str) -> bool {
        true
    }

    #[test]
    fn pages_keep_only_wanted_entries_and_the_token() {
        let body = br#"{"connectors":[
            {"name":"a","info":{"config":{"x":"y"}},"status":{"name":"a","connector":{"state":"RUNNING"},"tasks":[],"holistic_state":"CONNECTOR_HOLISTIC_STATE_HEALTHY"}},
            {"name":"b","status":{"name":"b","connector":{"state":"FAILED","trace":"boom"},"tasks":[]}},
            {"status":{"name":"c","connector":{"state":"PAUSED"},"tasks":[]}},
            {"name":"d"}
        ],"next_page_token":"3"}"#;
        let page = parse_list_page(body, &|n: &str| n != "b").expect("parses");
        let names: Vec<&str> = page.entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "c"], "b not wanted, d has no status");
        assert_eq!(page.unstated, ["d"], "d exists without a status");
        assert_eq!(page.seen, 4);
        assert_eq!(page.next_page_token.as_deref(), Some("3"));
        assert_eq!(
            page.entries[0].1.holistic_state.as_deref(),
            Some("CONNECTOR_HOLISTIC_STATE_HEALTHY")
        );
    }

    #[test]
    fn last_page_and_odd_shapes() {
        let last = parse_list_page(br#"{"connectors":[],"next_page_token":""}"#, &all).unwrap();
        assert_eq!(last.next_page_token, None);
        let bare = parse_list_page(br#"{}"#, &all).unwrap();
        assert_eq!(bare, ListPage::default());
        let null = parse_list_page(br#"{"connectors":null}"#, &all).unwrap();
        assert_eq!(null.seen, 0);
        assert!(parse_list_page(b"[]", &all).is_err());
        assert!(parse_list_page(br#"{"connectors":[1]}"#, &all).is_err());
        let long = format!(r#"{{"next_page_token":"{}"}}"#, "x".repeat(5000));
        assert!(parse_list_page(long.as_bytes(), &all).is_err());
    }

    #[test]
    fn a_page_cannot_hold_more_than_the_cap() {
        let entries = vec![r#"{"name":"x"}"#; MAX_PAGE_ENTRIES + 1].join(",");
        let body = format!(r#"{{"connectors":[{entries}]}}"#);
        let e = parse_list_page(body.as_bytes(), &all).expect_err("too many");
        assert!(e.contains("more than 1000"), "{e}");
    }

    #[test]
    fn urls_carry_size_and_token_encoded() {
        let base = Url::parse("https://api.example.com/prefix/").unwrap();
        let u = list_url(&base, "redpanda", 100, Some("a b&c")).unwrap();
        assert_eq!(
            u.as_str(),
            "https://api.example.com/prefix/v1/kafka-connect/clusters/redpanda/connectors?page_size=100&page_token=a+b%26c"
        );
    }
}
