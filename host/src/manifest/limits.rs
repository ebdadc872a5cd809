//! Resource limits, and the size and duration notations the manifest writes them in.
//!
//! Sizes are bytes, either an integer or `"N B"`, `"N KiB"`, `"N MiB"`, `"N GiB"` (space optional).
//! Durations are `"Nms"`, `"Ns"` or `"Nm"`. See docs/manifest.md, "Fields".

use std::time::Duration;

/// Caps for one component instance or route, after `[limits]` and overrides are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear-memory cap per instance, in bytes.
    pub memory: u64,
    /// Wall-clock deadline per request.
    pub timeout: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body: u64,
    /// Largest response body a handler may return, in bytes.
    pub max_response: u64,
    /// Calls of the component that may run at once; `None`: its share of the instance pool
    /// (see `app::admission_limits`).
    pub concurrency: Option<u32>,
    /// Requests that may wait for a free call; `None`: as many as `concurrency`.
    pub queue: Option<u32>,
    /// The longest a request waits in that queue.
    pub queue_timeout: Duration,
    /// Fuel one call may burn (wasmtime's deterministic instruction count); `None`: the
    /// component is not fuel-metered and its code carries no fuel checks.
    pub fuel: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 64 * MIB,
            timeout: Duration::from_secs(5),
            max_body: MIB,
            max_response: 16 * MIB,
            concurrency: None,
            queue: None,
            queue_timeout: Duration::from_secs(1),
            fuel: None,
        }
    }
}

/// Limits of the server as a whole (`[limits]` only): it applies them before it knows the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// The largest request head (request line and headers) the server reads.
    pub max_header_bytes: u64,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: u32,
    /// The longest a connection may take to send a complete request head, counted from when it
    /// opened or its last response ended — so it is also how long an idle keep-alive
    /// connection stays open (hyper starts its header timer when it waits for a head).
    pub header_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// `[limits] max_header_bytes` when not given: 64 KiB, far above what browsers send.
pub const DEFAULT_MAX_HEADER_BYTES: u64 = 64 * KIB;

/// Instances of the engine's pool that may exist at once: every call of every component takes
/// one. Admission control shares them out (see `app::admission_limits`).
pub const POOL_INSTANCES: u32 = 256;

/// Rounds of "I also need these reads" a pipeline step may ask for before the host gives up.
pub const MAX_READ_ROUNDS: usize = 4;

/// How long in-flight requests may go on after shutdown begins, unless `up --drain` says.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(30);

/// Response header fields a handler may set, and their total size (names and values).
pub const MAX_RESPONSE_HEADERS: usize = 100;
/// See [`MAX_RESPONSE_HEADERS`].
pub const MAX_RESPONSE_HEADER_BYTES: usize = 64 * 1024;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Why a value was rejected, with what to write instead.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Invalid {
    pub message: String,
    pub hint: Option<String>,
}

impl Invalid {
    fn new(message: String, hint: impl Into<String>) -> Self {
        Invalid {
            message,
            hint: Some(hint.into()),
        }
    }
}

const SIZE_HINT: &str =
    "write a number of bytes, or a string like `64 MiB` (units `B`, `KiB`, `MiB`, `GiB`)";
const DURATION_HINT: &str = "write a string like `250ms`, `5s` or `2m`";

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ByteSize(pub u64);

impl TryFrom<&toml::Value> for ByteSize {
    type Error = Invalid;

    fn try_from(value: &toml::Value) -> Result<Self, Invalid> {
        let text = match value {
            toml::Value::Integer(n) => {
                return u64::try_from(*n)
                    .map(ByteSize)
                    .map_err(|_| Invalid::new(format!("size `{n}` is negative"), SIZE_HINT));
            }
            toml::Value::String(s) => s.trim(),
            other => {
                return Err(Invalid::new(
                    format!("expected a size, found {}", kind(other)),
                    SIZE_HINT,
                ));
            }
        };
        let (number, unit) = split_number(text);
        let unit = unit.trim_start();
        let invalid = || Invalid::new(format!("invalid size `{text}`"), SIZE_HINT);
        if number.is_empty() {
            return Err(invalid());
        }
        if unit.starts_with('.') {
            return Err(Invalid::new(
                format!("size `{text}` is not a whole number"),
                "use a smaller unit, e.g. `1536 KiB` rather than `1.5 MiB`",
            ));
        }
        let scale = match unit {
            "" | "B" => 1,
            "KiB" => KIB,
            "MiB" => MIB,
            "GiB" => GIB,
            // 1000-based units would silently differ from what the author meant by a few percent.
            _ if ["kb", "mb", "gb"].contains(&unit.to_ascii_lowercase().as_str()) => {
                let binary = format!("{}iB", unit[..1].to_ascii_uppercase());
                return Err(Invalid::new(
                    format!("unit `{unit}` in size `{text}` is ambiguous"),
                    format!("use 1024-based `{binary}`, e.g. `{number} {binary}`"),
                ));
            }
            _ => {
                let hint = match super::diagnostic::did_you_mean(unit, ["B", "KiB", "MiB", "GiB"]) {
                    Some(unit) => format!("did you mean `{number} {unit}`?"),
                    None => SIZE_HINT.to_owned(),
                };
                return Err(Invalid::new(
                    format!("unknown unit `{unit}` in size `{text}`"),
                    hint,
                ));
            }
        };
        number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .map(ByteSize)
            .ok_or_else(|| {
                Invalid::new(
                    format!("size `{text}` is too large"),
                    "sizes must fit in 64 bits",
                )
            })
    }
}

/// A wall-clock duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Timeout(pub Duration);

impl TryFrom<&toml::Value> for Timeout {
    type Error = Invalid;

    fn try_from(value: &toml::Value) -> Result<Self, Invalid> {
        let text = match value {
            toml::Value::String(s) => s.trim(),
            toml::Value::Integer(n) => {
                return Err(Invalid::new(
                    format!("duration `{n}` has no unit"),
                    format!("write it as a string with a unit, e.g. `\"{n}s\"` or `\"{n}ms\"`"),
                ));
            }
            other => {
                return Err(Invalid::new(
                    format!("expected a duration, found {}", kind(other)),
                    DURATION_HINT,
                ));
            }
        };
        let (number, unit) = split_number(text);
        let Ok(n) = number.parse::<u64>() else {
            return Err(Invalid::new(
                format!("invalid duration `{text}`"),
                DURATION_HINT,
            ));
        };
        let duration = match unit.trim_start() {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "" => {
                return Err(Invalid::new(
                    format!("duration `{text}` has no unit"),
                    format!("add one, e.g. `{n}s` or `{n}ms`"),
                ));
            }
            unit => {
                return Err(Invalid::new(
                    format!("unknown unit `{unit}` in duration `{text}`"),
                    format!("use `ms`, `s` or `m`, e.g. `{n}s`"),
                ));
            }
        };
        Ok(Timeout(duration))
    }
}

/// A count: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Count(pub u32);

impl TryFrom<&toml::Value> for Count {
    type Error = Invalid;

    fn try_from(value: &toml::Value) -> Result<Self, Invalid> {
        const HINT: &str = "write a whole number from 1 to 4294967295, e.g. `64`";
        match value {
            toml::Value::Integer(n) => u32::try_from(*n)
                .ok()
                .filter(|&n| n > 0)
                .map(Count)
                .ok_or_else(|| Invalid::new(format!("count `{n}` is out of range"), HINT)),
            other => Err(Invalid::new(
                format!("expected a count, found {}", kind(other)),
                HINT,
            )),
        }
    }
}

/// An amount of fuel: a whole number of units, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fuel(pub u64);

impl TryFrom<&toml::Value> for Fuel {
    type Error = Invalid;

    fn try_from(value: &toml::Value) -> Result<Self, Invalid> {
        const HINT: &str = "write a whole number of fuel units, about one per wasm instruction, e.g. `fuel = 1_000_000_000`";
        match value {
            toml::Value::Integer(n) => u64::try_from(*n)
                .ok()
                .filter(|&n| n > 0)
                .map(Fuel)
                .ok_or_else(|| Invalid::new(format!("fuel `{n}` must be more than 0"), HINT)),
            other => Err(Invalid::new(
                format!("expected an amount of fuel, found {}", kind(other)),
                HINT,
            )),
        }
    }
}

/// Splits `"64 MiB"` into `("64", " MiB")`.
fn split_number(text: &str) -> (&str, &str) {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(digits)
}

/// How a TOML value is described in messages.
fn kind(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(v: impl Into<toml::Value>) -> Result<u64, Invalid> {
        ByteSize::try_from(&v.into()).map(|s| s.0)
    }

    fn duration(v: impl Into<toml::Value>) -> Result<Duration, Invalid> {
        Timeout::try_from(&v.into()).map(|t| t.0)
    }

    #[test]
    fn defaults_are_64_mib_5_s_1_mib() {
        let l = Limits::default();
        assert_eq!(
            (l.memory, l.timeout, l.max_body),
            (64 << 20, Duration::from_secs(5), 1 << 20)
        );
    }

    #[test]
    fn reads_sizes_with_binary_units_and_optional_space() {
        assert_eq!(size(1000).unwrap(), 1000);
        assert_eq!(size("512 B").unwrap(), 512);
        assert_eq!(size("16KiB").unwrap(), 16 << 10);
        assert_eq!(size("64 MiB").unwrap(), 64 << 20);
        assert_eq!(size("2 GiB").unwrap(), 2 << 30);
    }

    #[test]
    fn rejects_decimal_units_with_the_binary_one_as_hint() {
        let err = size("5 MB").unwrap_err();
        assert_eq!(err.message, "unit `MB` in size `5 MB` is ambiguous");
        assert_eq!(
            err.hint.as_deref(),
            Some("use 1024-based `MiB`, e.g. `5 MiB`")
        );
    }

    #[test]
    fn rejects_bad_sizes() {
        assert!(size(-1).unwrap_err().message.contains("negative"));
        assert!(
            size("1.5 MiB")
                .unwrap_err()
                .message
                .contains("whole number")
        );
        assert_eq!(
            size("5 mib").unwrap_err().hint.as_deref(),
            Some("did you mean `5 MiB`?")
        );
        assert!(size("MiB").unwrap_err().message.contains("invalid size"));
        assert!(
            size("99999999999 GiB")
                .unwrap_err()
                .message
                .contains("too large")
        );
        assert!(size(true).unwrap_err().message.contains("a boolean"));
    }

    #[test]
    fn reads_durations_in_ms_s_and_m() {
        assert_eq!(duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(duration("2 m").unwrap(), Duration::from_secs(120));
    }

    #[test]
    fn rejects_durations_without_a_known_unit() {
        assert_eq!(
            duration(5).unwrap_err().hint.as_deref(),
            Some("write it as a string with a unit, e.g. `\"5s\"` or `\"5ms\"`")
        );
        assert!(duration("5").unwrap_err().message.contains("no unit"));
        assert!(
            duration("1h")
                .unwrap_err()
                .message
                .contains("unknown unit `h`")
        );
        assert!(
            duration("fast")
                .unwrap_err()
                .message
                .contains("invalid duration")
        );
    }
}
