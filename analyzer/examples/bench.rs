//! Benchmark of the analyzer on a generated configuration of about 5 MB and 20 000 components.
//!
//! `cargo run --release -p alloy-analyzer --example bench [-- --write PATH]`
//!
//! Prints the time of a first full check, and of re-checks after changing one attribute value:
//! with the configuration in one file (the edit re-parses and re-checks the edited chunk of
//! the file), and split over 200 files of one directory. `--write PATH` also writes the
//! one-file configuration to PATH (for timing `alloy validate` as a whole process).

use std::time::{Duration, Instant};

use analyzer::{Analysis, Options};

/// One pipeline of 8 components (about 2 KB), numbered `i`.
fn pipeline(i: usize) -> String {
    format!(
        r#"// Pipeline {i}: pods of namespace team-{i} are discovered, relabelled and scraped; their
// metrics go to the team's Mimir tenant, their log files through a parsing stage to Loki.
discovery.kubernetes "k{i}" {{
  role = "pod"
  namespaces {{
    names = ["team-{i}", "shared"]
  }}
}}

discovery.relabel "r{i}" {{
  targets = discovery.kubernetes.k{i}.targets

  rule {{
    source_labels = ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_name"]
    separator     = "/"
    target_label  = "job"
    action        = "replace"
  }}

  rule {{
    source_labels = ["__meta_kubernetes_pod_phase"]
    regex         = "Pending|Succeeded|Failed|Completed"
    action        = "drop"
  }}
}}

prometheus.scrape "s{i}" {{
  targets         = discovery.relabel.r{i}.output
  forward_to      = [prometheus.relabel.p{i}.receiver]
  scrape_interval = "30s"
  scrape_timeout  = "10s"
  job_name        = string.format("job-%d", {i})
}}

prometheus.relabel "p{i}" {{
  forward_to = [prometheus.remote_write.w{i}.receiver]

  rule {{
    action        = "labeldrop"
    regex         = "pod_template_hash|controller_revision_hash"
  }}
}}

prometheus.remote_write "w{i}" {{
  endpoint {{
    url = "https://mimir-{i}.example.com/api/v1/push"

    queue_config {{
      capacity             = 10000
      max_samples_per_send = 2000
      batch_send_deadline  = "5s"
    }}

    basic_auth {{
      username = "tenant-{i}"
      password = sys.env("MIMIR_PASSWORD")
    }}
  }}
  external_labels = {{
    cluster = "prod-{i}",
    region  = "eu-west-1",
  }}
}}

loki.source.file "f{i}" {{
  targets    = local.file_match.m{i}.targets
  forward_to = [loki.process.l{i}.receiver]
}}

local.file_match "m{i}" {{
  path_targets = [{{"__path__" = "/var/log/team-{i}/*.log", "job" = "team-{i}"}}]
}}

loki.process "l{i}" {{
  forward_to = [loki.write.lw.receiver]

  stage.regex {{
    expression = "^(?P<level>[a-z]+) (?P<msg>.*)$"
  }}

  stage.labels {{
    values = {{ level = "" }}
  }}
}}

"#
    )
}

fn generate(pipelines: usize) -> Vec<String> {
    let mut parts: Vec<String> = (0..pipelines).map(pipeline).collect();
    parts.push("loki.write \"lw\" {\n  endpoint {\n    url = \"https://loki.example.com/loki/api/v1/push\"\n  }\n}\n".into());
    parts
}

/// The best and the median of `rounds` re-checks of `a` after changing the first
/// `scrape_interval` of `path` (whose text is `text`) to a value not seen before and one byte
/// longer than the original, so that each edit makes new text and moves everything after it.
fn edit_time(a: &mut Analysis, path: &str, text: &str, rounds: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|round| {
            let edited = text.replacen("scrape_interval = \"30s\"", &format!("scrape_interval = \"{}s\"", 100 + round), 1);
            let t = Instant::now();
            a.set_file_text(path, edited);
            a.diagnostic_counts();
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pipelines = 2500; // 8 components each: 20 000 components
    let parts = generate(pipelines);
    let whole: String = parts.concat();
    let components = whole.lines().filter(|l| l.ends_with("\" {") && !l.starts_with(' ')).count();
    println!("config: {:.2} MB, {} components", whole.len() as f64 / 1e6, components);
    if let Some(i) = args.iter().position(|a| a == "--write") {
        if let Some(path) = args.get(i + 1) {
            if let Err(e) = std::fs::write(path, &whole) {
                eprintln!("cannot write {path}: {e}");
            }
        }
    }

    // One file.
    let mut a = Analysis::new(Options::default());
    let t = Instant::now();
    a.set_files(vec![("config.alloy".into(), whole.clone())]);
    let counts = a.diagnostic_counts();
    println!("one file: first check {:?} ({} diagnostics)", t.elapsed(), counts.iter().sum::<usize>());
    let (best, median) = edit_time(&mut a, "config.alloy", &whole, 21);
    println!("one file: re-check after one attribute edit: best {best:?}, median {median:?}");

    // The same configuration split over 200 files.
    let per = parts.len().div_ceil(200);
    let files: Vec<(String, String)> = parts.chunks(per).enumerate().map(|(i, c)| (format!("part{i:03}.alloy"), c.concat())).collect();
    let first = files[0].1.clone();
    let mut b = Analysis::new(Options::default());
    let t = Instant::now();
    b.set_files(files);
    let counts = b.diagnostic_counts();
    println!("200 files: first check {:?} ({} diagnostics)", t.elapsed(), counts.iter().sum::<usize>());
    let (best, median) = edit_time(&mut b, "part000.alloy", &first, 21);
    println!("200 files: re-check after one attribute edit: best {best:?}, median {median:?}");
}
