//! `/metrics` in Prometheus text format: requests and latencies per route,
//! answers by mode, LLM calls and tokens.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use agent::Answer;

/// Upper bounds of the latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

#[derive(Default)]
struct Latency {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Counters {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Latency>,
    answers: BTreeMap<&'static str, u64>,
    llm_calls: u64,
    llm_tokens: u64,
}

/// The server's counters, shared by every request.
#[derive(Default)]
pub(crate) struct Metrics(Mutex<Counters>);

impl Metrics {
    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One request to `route` (its pattern, never the raw path).
    pub(crate) fn request(&self, route: &str, status: u16, took: Duration) {
        let mut counters = self.counters();
        *counters
            .requests
            .entry((route.to_string(), status))
            .or_insert(0) += 1;
        let latency = counters.latency.entry(route.to_string()).or_default();
        let secs = took.as_secs_f64();
        for (bucket, bound) in latency.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            *bucket += u64::from(secs <= bound);
        }
        latency.count += 1;
        latency.sum += secs;
    }

    /// One answer given.
    pub(crate) fn answer(&self, answer: &Answer) {
        let mut counters = self.counters();
        *counters.answers.entry(answer.mode.name()).or_insert(0) += 1;
        counters.llm_calls += u64::from(answer.usage.calls);
        counters.llm_tokens += u64::from(answer.usage.total());
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub(crate) fn render(&self) -> String {
        let counters = self.counters();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP oncall_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE oncall_http_requests_total counter");
        for ((route, status), count) in &counters.requests {
            let _ = writeln!(
                out,
                "oncall_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP oncall_http_request_duration_seconds Time to answer a request."
        );
        let _ = writeln!(out, "# TYPE oncall_http_request_duration_seconds histogram");
        for (route, latency) in &counters.latency {
            for (count, bound) in latency.buckets.iter().zip(LATENCY_BUCKETS) {
                let _ = writeln!(
                    out,
                    "oncall_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "oncall_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                latency.count
            );
            let _ = writeln!(
                out,
                "oncall_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                latency.sum
            );
            let _ = writeln!(
                out,
                "oncall_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                latency.count
            );
        }
        let _ = writeln!(out, "# HELP oncall_answers_total Answers given, by mode.");
        let _ = writeln!(out, "# TYPE oncall_answers_total counter");
        for mode in ["evidence", "llm"] {
            let _ = writeln!(
                out,
                "oncall_answers_total{{mode=\"{mode}\"}} {}",
                counters.answers.get(mode).copied().unwrap_or(0)
            );
        }
        let _ = writeln!(
            out,
            "# HELP oncall_llm_calls_total LLM calls made for answers."
        );
        let _ = writeln!(out, "# TYPE oncall_llm_calls_total counter");
        let _ = writeln!(out, "oncall_llm_calls_total {}", counters.llm_calls);
        let _ = writeln!(
            out,
            "# HELP oncall_llm_tokens_total LLM tokens (prompt and completion) spent for answers."
        );
        let _ = writeln!(out, "# TYPE oncall_llm_tokens_total counter");
        let _ = writeln!(out, "oncall_llm_tokens_total {}", counters.llm_tokens);
        out
    }
}
