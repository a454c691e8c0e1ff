//! How the status view looks: colour (or none), column alignment, ages. Pure.

use anstyle::{AnsiColor, Style};
use k8s_openapi::jiff::Timestamp;
use unicode_width::UnicodeWidthStr;

/// Colour by meaning, or plain text (piped output, `NO_COLOR`, `--color never`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paint {
    /// Whether to emit ANSI colour codes.
    pub color: bool,
}

/// What a word means to the reader, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Healthy, running, True.
    Good,
    /// Degraded, restarting, unknown: look soon.
    Warn,
    /// Failed, unhealthy, False: look now.
    Bad,
    /// Paused, stopped, not applicable.
    Quiet,
    /// Headings.
    Heading,
    /// Anything else.
    Plain,
}

impl Paint {
    /// `text` in the colour of `tone`.
    pub fn tone(&self, tone: Tone, text: &str) -> String {
        let style = match tone {
            Tone::Good => Style::new().fg_color(Some(AnsiColor::Green.into())),
            Tone::Warn => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            Tone::Bad => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
            Tone::Quiet => Style::new().dimmed(),
            Tone::Heading => Style::new().bold(),
            Tone::Plain => Style::new(),
        };
        if !self.color || style == Style::new() || text.is_empty() {
            return text.to_string();
        }
        format!("{style}{text}{style:#}")
    }
}

/// The tone of a holistic state, task state, or condition status word.
pub fn tone_of(word: &str) -> Tone {
    match word {
        "Healthy" | "RUNNING" | "True" => Tone::Good,
        "Degraded" | "Restarting" | "RESTARTING" | "Unassigned" | "UNASSIGNED" | "Unknown"
        | "Pending" => Tone::Warn,
        "Unhealthy" | "FAILED" | "False" | "Destroyed" | "DESTROYED" => Tone::Bad,
        "Paused" | "PAUSED" | "Stopped" | "STOPPED" => Tone::Quiet,
        _ => Tone::Plain,
    }
}

/// A cell: its text and tone. Width is measured on the text, before colour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// What is shown.
    pub text: String,
    /// Its colour.
    pub tone: Tone,
}

impl Cell {
    /// A plain cell.
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    /// A cell coloured by what its word means.
    pub fn word(text: impl Into<String>) -> Cell {
        let text = text.into();
        let tone = tone_of(&text);
        Cell { text, tone }
    }
}

/// Rows aligned in columns two spaces apart, as `kubectl get` prints them; the last column is
/// not padded. Every line starts with `indent`.
pub fn table(paint: Paint, indent: &str, header: &[&str], rows: &[Vec<Cell>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.text.width());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<(String, usize)>, out: &mut String| {
        out.push_str(indent);
        let last = cells.len().saturating_sub(1);
        for (i, (shown, width)) in cells.into_iter().enumerate() {
            out.push_str(&shown);
            if i < last {
                out.push_str(&" ".repeat(widths[i].saturating_sub(width) + 2));
            }
        }
        // An empty last cell leaves no padding behind.
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
    };
    line(
        header
            .iter()
            .map(|h| (paint.tone(Tone::Heading, h), h.width()))
            .collect(),
        &mut out,
    );
    for row in rows {
        line(
            row.iter()
                .take(columns)
                .map(|c| (paint.tone(c.tone, &c.text), c.text.width()))
                .collect(),
            &mut out,
        );
    }
    out
}

/// How long ago `then` was, as `kubectl get` says it (`45s`, `12m`, `5h`, `3d`); `-` when unknown.
pub fn age(then: Option<Timestamp>, now: Timestamp) -> String {
    let Some(then) = then else {
        return "-".to_string();
    };
    let secs = now.as_second().saturating_sub(then.as_second()).max(0);
    duration(secs)
}

/// A span in seconds, shortest unit first that keeps it readable.
pub fn duration(secs: i64) -> String {
    match secs {
        ..120 => format!("{secs}s"),
        120..10_800 => format!("{}m", secs / 60),
        10_800..172_800 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// `text` cut to `max` columns of a terminal (a CJK character takes two), with `…` when cut;
/// only its first line.
pub fn clip(text: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let first = text.lines().next().unwrap_or_default();
    if first.width() <= max && !text.contains('\n') {
        return first.to_string();
    }
    let room = max.saturating_sub(1);
    let mut used = 0;
    let kept: String = first
        .chars()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= room
        })
        .collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wide characters take two columns: the table stays aligned and a clipped message fits.
    #[test]
    fn widths_are_terminal_columns() {
        let rows = vec![
            vec![Cell::plain("注文"), Cell::plain("x")],
            vec![Cell::plain("abcd"), Cell::plain("y")],
        ];
        let out = table(Paint { color: false }, "", &["NAME", "V"], &rows);
        assert_eq!(out, "NAME  V\n注文  x\nabcd  y\n");
        assert_eq!(clip("注文注文注文", 5), "注文…");
        assert_eq!(clip("short", 5), "short");
    }

    #[test]
    fn tables_align_on_text_not_on_colour_codes() {
        let rows = vec![
            vec![Cell::plain("orders"), Cell::word("Unhealthy")],
            vec![Cell::plain("a"), Cell::word("Healthy")],
        ];
        let plain = table(Paint { color: false }, "", &["NAME", "STATE"], &rows);
        assert_eq!(plain, "NAME    STATE\norders  Unhealthy\na       Healthy\n");
        let coloured = table(Paint { color: true }, "", &["NAME", "STATE"], &rows);
        assert!(
            coloured.contains("\u{1b}[1m\u{1b}[31mUnhealthy"),
            "{coloured:?}"
        );
        let stripped: String = strip_ansi(&coloured);
        assert_eq!(stripped, plain);
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn ages_read_like_kubectl() {
        let now: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        let ago = |s: i64| {
            age(
                Some(now - k8s_openapi::jiff::SignedDuration::from_secs(s)),
                now,
            )
        };
        assert_eq!(ago(0), "0s");
        assert_eq!(ago(119), "119s");
        assert_eq!(ago(120), "2m");
        assert_eq!(ago(3 * 3600), "3h");
        assert_eq!(ago(3 * 86_400), "3d");
        assert_eq!(ago(-50), "0s", "clock skew is not negative");
        assert_eq!(age(None, now), "-");
    }

    #[test]
    fn clip_keeps_one_line() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("a longer message", 8), "a longe…");
        assert_eq!(clip("first\nsecond", 20), "first…");
    }
}
