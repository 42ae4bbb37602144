use super::*;
use crate::otelcol::pdata::tests::{kv, traces};
use crate::otelcol::processor::rewrite::rules_of;

fn system(body: &str) -> SystemConfig {
    let v =
        crate::component::args::evaluated(&format!("otelcol.processor.resourcedetection \"r\" {{\n  system {{\n{body}\n  }}\n  output {{}}\n}}\n")).unwrap();
    crate::component::args::decode_checked::<Args>(NAME, &v).map(|a| a.system).unwrap()
}

#[test]
fn env_attributes_are_parsed_and_unescaped() {
    let attrs = env_attributes(" service.name = api ,team=a%2Cb, note=hello+world").unwrap();
    assert_eq!(attrs, [("service.name".to_string(), "api".to_string()), ("team".into(), "a,b".into()), ("note".into(), "hello world".into())]);
    assert!(env_attributes("novalue").unwrap_err().contains("invalid resource format"));
    assert!(env_attributes("k=%zz").is_err());
}

#[test]
fn first_detector_wins_and_toggles_select_system_attributes() {
    let sys = system("    hostname_sources = [\"os\"]\n    resource_attributes {\n      host.arch {\n        enabled = true\n      }\n      os.type {\n        enabled = false\n      }\n    }");
    let found = detect(&["env".into(), "system".into()], &sys, Some("host.name=from-env")).unwrap();
    let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["host.name", "host.arch"]);
    assert_eq!(found[0].1, "from-env");
    assert_eq!(found[1].1, system::host_arch());
    let found = detect(&["system".into()], &sys, None).unwrap();
    let os = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(found[0], ("host.name".to_string(), os.trim().to_string()));
}

#[test]
fn fqdn_comes_from_the_hosts_line_naming_the_host() {
    let hosts = "127.0.0.1 localhost\n# 10.0.0.1 box.old box\n10.0.0.2 box.example.com box other\n";
    assert_eq!(system::fqdn_from_hosts(hosts, "box").as_deref(), Some("box.example.com"));
    assert_eq!(system::fqdn_from_hosts(hosts, "nothere"), None);
}

#[test]
fn override_decides_who_wins_on_the_resource() {
    let run = |override_existing: bool| {
        let r = Rules { detected: vec![kv("service.name", "detected"), kv("host.name", "h")], override_existing };
        let out = r.process(Payload::from_traces(&traces(1, 1))).unwrap().unwrap().decode_traces().unwrap();
        out.resource_spans[0].resource.clone().unwrap().attributes
    };
    assert_eq!(run(true), [kv("service.name", "detected"), kv("host.name", "h")]);
    assert_eq!(run(false), [kv("service.name", "svc0"), kv("host.name", "h")]);
}

#[test]
fn unsupported_detectors_and_attributes_are_refused() {
    let bad = |body: &str| rules_of::<Args>(&format!("otelcol.processor.resourcedetection \"r\" {{\n{body}\n  output {{}}\n}}\n")).err().unwrap_or_default();
    assert!(bad("  detectors = [\"ec2\"]").contains("detector \"ec2\" is not supported by this runtime yet"));
    assert!(bad("  detectors = [\"nope\"]").contains("is not a known detector"));
    assert!(bad("  system {\n    hostname_sources = [\"cname\"]\n  }").contains("not supported"));
    assert!(bad("  system {\n    resource_attributes {\n      host.mac {\n        enabled = true\n      }\n    }\n  }").contains("not supported"));
    assert!(bad("  ec2 {\n    tags = [\"a\"]\n  }").contains("not supported"));
    assert!(bad("  detectors = [\"env\", \"system\"]").is_empty());
}
