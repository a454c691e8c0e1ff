//! The `process_*` series every Prometheus client library exports (the names of the Go and Python
//! clients' process collectors), read from `/proc/self` at each scrape, and
//! `managed_connector_build_info`. prometheus-client has no process collector of its own; these
//! are what the memory and CPU panels and alerts of any dashboard expect to find.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Linux reports CPU times in USER_HZ ticks, which the kernel's user-space ABI fixes at 100.
const TICKS_PER_SECOND: f64 = 100.0;

/// What one scrape reads from `/proc/self`; a missing file or field leaves its series out.
#[derive(Debug, Default, PartialEq)]
pub struct ProcessSample {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<f64>,
    pub virtual_bytes: Option<f64>,
    pub threads: Option<f64>,
    pub start_time_seconds: Option<f64>,
    pub open_fds: Option<f64>,
    pub max_fds: Option<f64>,
}

impl ProcessSample {
    /// Reads the running process.
    pub fn read() -> Self {
        let text = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|dir| dir.count() as f64);
        ProcessSample {
            open_fds,
            ..ProcessSample::parse(
                &text("/proc/self/stat"),
                &text("/proc/self/status"),
                &text("/proc/self/limits"),
                &text("/proc/stat"),
            )
        }
    }

    /// The pure part: `/proc/self/stat`, `/proc/self/status`, `/proc/self/limits`, `/proc/stat`.
    pub fn parse(stat: &str, status: &str, limits: &str, system: &str) -> Self {
        // Fields after the command name, which is in parentheses and may hold spaces: field 3
        // (state) is the first; utime and stime are fields 14 and 15, starttime field 22.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let field = |n: usize| -> Option<f64> { fields.get(n.checked_sub(3)?)?.parse().ok() };
        let cpu_seconds = match (field(14), field(15)) {
            (Some(user), Some(system)) => Some((user + system) / TICKS_PER_SECOND),
            _ => None,
        };
        let boot_time = system
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok());
        let start_time_seconds = match (boot_time, field(22)) {
            (Some(boot), Some(ticks)) => Some(boot + ticks / TICKS_PER_SECOND),
            _ => None,
        };
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map(|v| v * 1024.0)
        };
        let threads = status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|v| v.trim().parse().ok());
        let max_fds = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok());
        ProcessSample {
            cpu_seconds,
            resident_bytes: kib("VmRSS:"),
            virtual_bytes: kib("VmSize:"),
            threads,
            start_time_seconds,
            open_fds: None,
            max_fds,
        }
    }
}

/// Registered unprefixed: `process_*` are the conventional names.
#[derive(Debug)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sample = ProcessSample::read();
        if let Some(v) = sample.cpu_seconds {
            let counter = ConstCounter::new(v);
            let metric = encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                counter.metric_type(),
            )?;
            counter.encode(metric)?;
        }
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                sample.resident_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                sample.virtual_bytes,
            ),
            (
                "process_threads",
                "Number of OS threads in the process",
                sample.threads,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds",
                sample.start_time_seconds,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors",
                sample.open_fds,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                sample.max_fds,
            ),
        ];
        for (name, help, value) in gauges {
            let Some(value) = value else { continue };
            let gauge = ConstGauge::new(value);
            let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_proc_files_as_the_kernel_writes_them() {
        // A command name with a space and a parenthesis, as the kernel allows.
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 50 0 0 20 0 9 0 12345 123456789 5000 18446744073709551615";
        let status = "Name:\tx\nVmSize:\t  120560 kB\nVmRSS:\t    23000 kB\nThreads:\t9\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1048576              1048576              files\n";
        let system = "cpu  1 2 3\nbtime 1796150000\nprocesses 1\n";
        let sample = ProcessSample::parse(stat, status, limits, system);
        assert_eq!(
            sample,
            ProcessSample {
                cpu_seconds: Some(3.0),
                resident_bytes: Some(23000.0 * 1024.0),
                virtual_bytes: Some(120560.0 * 1024.0),
                threads: Some(9.0),
                start_time_seconds: Some(1796150000.0 + 123.45),
                open_fds: None,
                max_fds: Some(1048576.0),
            }
        );
    }

    #[test]
    fn leaves_out_what_it_cannot_read() {
        assert_eq!(
            ProcessSample::parse("", "", "", ""),
            ProcessSample::default()
        );
        assert_eq!(
            ProcessSample::parse("1 (x) S", "VmRSS: lots", "", "btime soon").cpu_seconds,
            None
        );
    }

    #[test]
    fn this_process_has_a_resident_size_and_open_files() {
        let sample = ProcessSample::read();
        assert!(sample.resident_bytes.is_some_and(|b| b > 0.0));
        assert!(sample.open_fds.is_some_and(|n| n >= 1.0));
        assert!(sample.cpu_seconds.is_some());
    }
}
