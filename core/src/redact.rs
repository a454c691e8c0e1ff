//! Redaction (pure): every text that comes from a source (traces, error contents, refusals)
//! loses the Secret values the resource uses before it is written anywhere. Connectors quote
//! their configuration back (a JDBC driver prints the connection URL, password included; Kafka
//! Connect quotes a whole configuration it refuses), so a value may arrive raw, JSON-escaped
//! (inside a quoted configuration) or URL-encoded (inside a connection URL).
//!
//! Values are replaced longest form first, so a value that contains another is replaced whole
//! rather than leaving its tail. Values shorter than [`MIN_REDACTED`] bytes are not replaced: a
//! one- or two-character "secret" would blank every occurrence of those characters in every
//! message, and is no secret.

use crate::probe::Observation;

/// Shortest value replaced.
pub const MIN_REDACTED: usize = 3;
/// What a value is replaced by.
pub const REDACTED: &str = "[redacted]";

/// The forms of a resource's Secret values, longest first.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    forms: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} forms)", self.forms.len())
    }
}

impl Redactor {
    /// A redactor of these values.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut forms: Vec<String> = Vec::new();
        for v in values.into_iter().filter(|v| v.len() >= MIN_REDACTED) {
            let json = serde_json::to_string(v).unwrap_or_default();
            let json = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or(v)
                .to_string();
            let url: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            let percent = url.replace('+', "%20");
            for form in [v.to_string(), json, url, percent] {
                if form.len() >= MIN_REDACTED && !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        Redactor::of(forms)
    }

    /// Longest first, so that a value containing another is replaced whole.
    fn of(mut forms: Vec<String>) -> Self {
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        Redactor { forms }
    }

    /// This redactor and the forms of `values` too, longest first still.
    pub fn and<'a>(&self, values: impl IntoIterator<Item = &'a str>) -> Self {
        let more = Redactor::new(values);
        let mut forms = self.forms.clone();
        for form in more.forms {
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
        Redactor::of(forms)
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// `text` with every form of every value replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        out
    }

    /// An observation with every text from the source redacted: traces, error titles and
    /// contents, failure messages.
    pub fn observation(&self, observation: Observation) -> Observation {
        if self.is_empty() {
            return observation;
        }
        match observation {
            Observation::Found {
                mut status,
                mut assessment,
            } => {
                status.connector.trace = self.text(&status.connector.trace);
                for task in &mut status.tasks {
                    task.trace = self.text(&task.trace);
                }
                for e in &mut assessment.errors {
                    e.title = self.text(&e.title);
                    e.content = self.text(&e.content);
                }
                Observation::Found { status, assessment }
            }
            Observation::Failed(mut f) => {
                f.message = self.text(&f.message);
                Observation::Failed(f)
            }
            deferred => deferred,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{Failure, FailureKind, Report};

    #[test]
    fn the_redaction_table() {
        let r = Redactor::new(["s3cr/t p@ss", "s3cr", "xy", "q\"uote"]);
        let table = [
            ("plain s3cr/t p@ss here", "plain [redacted] here"),
            // Longest first: the longer value is replaced whole, not around the shorter one.
            ("s3cr/t p@ss and s3cr", "[redacted] and [redacted]"),
            // URL-encoded, both ways of writing a space.
            (
                "jdbc:pg://u:s3cr%2Ft+p%40ss@db",
                "jdbc:pg://u:[redacted]@db",
            ),
            (
                "jdbc:pg://u:s3cr%2Ft%20p%40ss@db",
                "jdbc:pg://u:[redacted]@db",
            ),
            // JSON-escaped, inside a quoted configuration.
            (r#"{"password":"q\"uote"}"#, r#"{"password":"[redacted]"}"#),
            // Too short to be a secret: left alone.
            ("xy marks the spot", "xy marks the spot"),
            ("nothing to see", "nothing to see"),
        ];
        for (input, want) in table {
            assert_eq!(r.text(input), want, "{input}");
        }
        assert!(Redactor::new(["", "ab"]).is_empty());
        // Joined with more values (the source's credentials), the longest is still first.
        let joined = Redactor::new(["pass"]).and(["password-long"]);
        assert_eq!(
            joined.text("x password-long y pass"),
            "x [redacted] y [redacted]"
        );
        assert!(!format!("{r:?}").contains("s3cr"), "Debug shows no value");
    }

    #[test]
    fn observations_lose_the_values_everywhere_they_come_from_the_source() {
        let secret = "hunter2-password";
        let r = Redactor::new([secret]);
        let trace = format!(
            "org.postgresql.util.PSQLException: FATAL\nCaused by: java.sql.SQLException: cannot connect to jdbc:postgresql://db/x?password={secret}\n"
        );
        let mut status = crate::health::test_status("FAILED", &["FAILED"]);
        status.connector.trace = trace.clone();
        status.tasks[0].trace = trace;
        let found = r.observation(Report::from_connect(status).assess());
        let text = format!("{found:?}");
        assert!(!text.contains(secret), "{text}");
        assert!(text.contains(REDACTED));
        let failed = r.observation(Observation::Failed(Failure::new(
            FailureKind::InvalidArgument,
            format!("refused password={secret}"),
        )));
        assert_eq!(
            failed,
            Observation::Failed(Failure::new(
                FailureKind::InvalidArgument,
                "refused password=[redacted]"
            ))
        );
    }
}
