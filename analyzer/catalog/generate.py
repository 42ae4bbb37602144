#!/usr/bin/env python3
"""Builds analyzer/catalog/catalog.json, the analyzer's component catalogue.

Usage: python3 analyzer/catalog/generate.py PATH/TO/components.json [OUT]

The input is the shared fact sheet (one entry per component / config block, block paths
written `a > b`). The output is this project's own compact schema:

    {"version": 1, "components": [ENTRY...]}
    ENTRY = {"name", "kind": "component"|"config", "stability": "ga"|"preview"|"experimental"|null,
             "community"?: true, "removed"?: true, "label": "required"|"forbidden",
             "doc": one line of our own, "body": BODY, "exports": [[name, type]...]}
    BODY  = {"attrs": [ATTR...], "blocks": [BLOCK...], "open"?: true}
    ATTR  = {"n": name, "t": type, "r"?: true (required), "d"?: default (an Alloy expression),
             "c"?: a default the component computes (the documentation's words), "e"?: [enum members]}
    BLOCK = {"n": name, "r"?: true, "m"?: true (repeatable), "l"?: true (takes a label),
             "inherit"?: true (also accepts the component's top-level blocks), "body": BODY}

`open` marks bodies whose schema is not certain (custom decoders, docs-only blocks, free-form
bodies): the analyzer does not report unknown names or missing required items inside them.

Types are normalised into a small grammar: string number bool duration size url secret
optsecret any object, list(T), map(T), and the capsules otelcol.Consumer otelcol.Handler
MetricsReceiver LogsReceiver ProfilesReceiver RelabelRules.
"""
import json
import re
import sys

STABILITY = {"generally-available": "ga", "public-preview": "preview", "experimental": "experimental", None: None}

SCALARS = {
    "string": "string", "bool": "bool", "boolean": "bool",
    "number": "number", "int": "number", "uint": "number", "float": "number", "float64": "number",
    "float32": "number", "integer": "number", "uint32": "number",
    "duration": "duration", "Duration": "duration",
    "size": "size", "units.Base2Bytes": "size",
    "secret": "secret", "string or secret": "optsecret", "secret or string": "optsecret",
    "any": "any", "object": "object",
    "otelcol.Consumer": "otelcol.Consumer", "capsule(otelcol.Consumer)": "otelcol.Consumer",
    "capsule(otelcol.Handler)": "otelcol.Handler",
    "MetricsReceiver": "MetricsReceiver", "LogsReceiver": "LogsReceiver", "loki.LogsReceiver": "LogsReceiver",
    "ProfilesReceiver": "ProfilesReceiver", "pyroscope.Appendable": "ProfilesReceiver",
    "RelabelRules": "RelabelRules",
    "Target": "map(string)", "capsule(discovery.Target)": "map(string)", "discovery.Target": "map(string)",
}


def norm_type(t, component):
    t = t.strip()
    if t == "lists(map(string)":
        t = "list(map(string))"
    if t == "map[string]string":
        return "map(string)"
    if t == "[]relabel.Config":
        return "RelabelRules"
    if t.startswith("[]"):
        return "list(%s)" % norm_type(t[2:], component)
    m = re.fullmatch(r"(list|array|map)\((.*)\)", t)
    if m:
        kind = "map" if m.group(1) == "map" else "list"
        return "%s(%s)" % (kind, norm_type(m.group(2), component))
    if t == "receiver":
        return "ProfilesReceiver" if component.startswith("pyroscope.") else "LogsReceiver"
    if t in SCALARS:
        return SCALARS[t]
    raise SystemExit("unknown type %r in %s" % (t, component))


# Enumerations the decoders enforce (facts from upstream's UnmarshalText methods).
RELABEL_ACTIONS = ["replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep",
                   "keepequal", "dropequal", "lowercase", "uppercase"]
RELABEL_BLOCKS = {"rule", "write_relabel_config", "endpoint > write_relabel_config"}
ENUMS = {
    ("logging", "", "level"): ["", "debug", "info", "warn", "error"],
    ("logging", "", "format"): ["", "logfmt", "json"],
}
# loki.process stage attributes that hold a regular expression.
REGEXES = {
    ("loki.process", "stage.regex", "expression"),
    ("loki.process", "stage.replace", "expression"),
    ("loki.process", "stage.drop", "expression"),
    ("loki.process", "stage.multiline", "firstline"),
}
# Attributes whose Go type is `[]map[string]any` (stanza operator configurations nest maps and
# lists, as `timestamp = {...}` in a parser does) where the fact sheet says `map(string)`.
ANY_MAPS = {
    ("otelcol.receiver.filelog", "", "operators"),
    ("otelcol.receiver.filelog", "header", "metadata_operators"),
}
# Defaults where the documentation and the decoder disagree and the decoder's is what runs:
# filelog's documented 10 concurrent files would leave a poll at 50 files (10 batches of 5).
GO_DEFAULTS = {
    ("otelcol.receiver.filelog", "", "max_concurrent_files"),
}
# Attributes whose string is a URL that must carry a scheme.
URLS = {
    ("prometheus.remote_write", "endpoint", "url"),
    ("loki.write", "endpoint", "url"),
    ("pyroscope.write", "endpoint", "url"),
    ("remote.http", "", "url"),
    ("import.http", "", "url"),
    ("discovery.http", "", "url"),
}


# Defaults the documentation writes as prose or loosely: the expression they mean, or None for
# a default the component computes (kept as "c" with the documentation's words).
DEFAULT_FIXUPS = {
    "4MB": "4194304",
    "0 (disabled)": "0",
    "0 (no limit)": "0",
    '"PLAIN""': '"PLAIN"',
    '"" (no compression)': '""',
    '"PT5M" (5 minutes)': '"PT5M"',
    '"PT1M" (1 minute)': '"PT1M"',
    "[local_address, local_port, remote_address, remote_port, proto, local_mark]":
        '["local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark"]',
    "(unset)": None,
    "inf": None,
}
# Types whose defaults the documentation may write without quotes.
TEXT_TYPES = {"string", "regex", "duration", "size", "url", "secret", "optsecret"}
LITERAL = re.compile(r'^(-?\d+(\.\d+)?|true|false|null|"([^"\\]|\\.)*"|\[.*\]|\{.*\})$')


def default_of(text, ty):
    """("d", expression) for a usable default, ("c", prose) for one the component computes.
    The analyzer's tests evaluate every "d" and convert it to its type."""
    text = text.strip()
    # Empty collections written with the wrong brackets, or as an empty string.
    if ty.startswith("list(") and text in ("{}", '""'):
        return "d", "[]"
    if ty.startswith("map(") and text == '""':
        return "d", "{}"
    # An "empty" default of a capsule, or one of another type than the attribute's: the
    # component decides what absence means.
    capsule = ty[:1].isupper() or ("." in ty and not ty.startswith(("list(", "map(")))
    if capsule or (ty in ("number", "bool") and text.startswith(('"', "[", "{"))) or \
            (ty in TEXT_TYPES and text.startswith(("[", "{"))):
        return "c", text
    if text in DEFAULT_FIXUPS:
        fixed = DEFAULT_FIXUPS[text]
        return ("c", text) if fixed is None else ("d", fixed)
    if LITERAL.match(text):
        return "d", text
    if ty in TEXT_TYPES and " " not in text and not text.startswith("_") and "see below" not in text.lower():
        return "d", json.dumps(text)
    return "c", text


def attr(a, component, block_path):
    t = norm_type(a["type"], component)
    leaf = block_path.split(" > ")[-1] if block_path else ""
    if (component, block_path, a["name"]) in URLS and t == "string":
        t = "url"
    if (component, block_path, a["name"]) in ANY_MAPS:
        t = "list(map(any))"
    out = {"n": a["name"], "t": t}
    # Required follows the decoder's tags; items the decoder does not know are never required.
    if a.get("required") and a.get("in_go", True) is not False:
        out["r"] = True
    default = a.get("go_default") if (component, block_path, a["name"]) in GO_DEFAULTS else a.get("default")
    if default not in (None, ""):
        kind, text = default_of(default, out["t"])
        out[kind] = text
    enum = ENUMS.get((component, block_path, a["name"]))
    if enum is None and leaf in ("rule", "write_relabel_config") and a["name"] == "action" and \
            (component.endswith(".relabel") or component.startswith("prometheus.") or component.startswith("discovery.")):
        enum = RELABEL_ACTIONS
    if enum is not None:
        out["e"] = enum
    if leaf in ("rule", "write_relabel_config") and a["name"] == "regex" and t == "string":
        out["t"] = "regex"
    if (component, block_path, a["name"]) in REGEXES and t == "string":
        out["t"] = "regex"
    return out


def body_of(entry):
    comp = entry["name"]
    root = {"attrs": [attr(a, comp, "") for a in entry["arguments"]], "blocks": []}
    nodes = {"": root}
    for b in sorted(entry["blocks"], key=lambda b: b["name"].count(">")):
        path = b["name"]
        parent_path, _, leaf = path.rpartition(" > ")
        parent = nodes.get(parent_path)
        if parent is None:
            # A child whose parent is not listed: attach an open parent so nothing is lost.
            parent = {"attrs": [], "blocks": [], "open": True}
            nodes[parent_path] = parent
        body = {"attrs": [attr(a, comp, path) for a in b["arguments"]], "blocks": []}
        uncertain = b.get("custom_decode") or b.get("in_go") is False or b.get("repeatable") is None
        if uncertain:
            body["open"] = True
        blk = {"n": leaf, "body": body}
        if b.get("required") and b.get("in_go", True) is not False:
            blk["r"] = True
        if b.get("repeatable") or b.get("repeatable") is None:
            blk["m"] = True
        if b.get("label"):
            blk["l"] = True
        if comp == "loki.process" and leaf == "stage.match":
            blk["inherit"] = True
        parent["blocks"].append(blk)
        nodes[path] = body
    return root


# One-line descriptions by namespace, for components without an entry in DOCS ("%s" is the
# last name segment, underscores as spaces).
NAMESPACE_DOCS = {
    "discovery": "Finds targets from %s and exports them as a target list.",
    "prometheus.exporter": "Runs an embedded Prometheus exporter for %s and exports its scrape target.",
    "prometheus.operator": "Scrapes targets described by Prometheus Operator %s resources.",
    "loki.source": "Reads log entries from %s and forwards them to Loki receivers.",
    "otelcol.receiver": "Accepts %s telemetry and hands it to OpenTelemetry consumers.",
    "otelcol.processor": "OpenTelemetry processor (%s) that transforms telemetry before passing it on.",
    "otelcol.exporter": "Sends OpenTelemetry telemetry to %s.",
    "otelcol.connector": "OpenTelemetry connector (%s) that derives new telemetry from what it receives.",
    "otelcol.auth": "Provides %s authentication for OpenTelemetry receivers and exporters.",
    "remote": "Fetches %s content and exports it.",
    "remote.kubernetes": "Fetches %s content and exports it.",
    "pyroscope": "Profiling component: %s.",
    "database_observability": "Collects query and schema insight from %s databases.",
    "mimir": "Syncs Kubernetes %s resources to Mimir.",
    "mimir.rules": "Syncs Kubernetes %s resources to Mimir.",
    "mimir.alerts": "Syncs Kubernetes %s resources to Mimir.",
    "loki.rules": "Syncs Kubernetes %s rule resources to the Loki ruler.",
}


def describe(name, kind):
    if name in DOCS:
        return DOCS[name]
    ns, _, last = name.rpartition(".")
    if ns in NAMESPACE_DOCS:
        return NAMESPACE_DOCS[ns] % last.replace("_", " ")
    return "The %s %s." % (name, "configuration block" if kind == "config" else "component")


DOCS = {
    "logging": "Configures the agent's own log level, format and destinations.",
    "tracing": "Configures the agent's own trace sampling and where its spans go.",
    "http": "Configures the built-in HTTP server: TLS and authentication.",
    "livedebugging": "Turns on live debugging of component data in the UI.",
    "remotecfg": "Fetches configuration from a remote configuration service.",
    "argument": "Declares an argument a module or custom component accepts.",
    "export": "Declares a value a module or custom component exports.",
    "declare": "Defines a custom component whose body is Alloy configuration.",
    "import.file": "Imports custom components from a file or directory on disk.",
    "import.string": "Imports custom components from a string of Alloy configuration.",
    "import.http": "Imports custom components from a module served over HTTP.",
    "import.git": "Imports custom components from a file in a Git repository.",
    "foreach": "Instantiates its template once for every item of a collection.",
    "prometheus.scrape": "Scrapes Prometheus metrics from targets and forwards the samples.",
    "prometheus.remote_write": "Sends metrics to Prometheus-compatible remote-write endpoints.",
    "prometheus.relabel": "Rewrites or drops metric series with relabel rules before forwarding.",
    "prometheus.receive_http": "Accepts Prometheus remote-write requests over HTTP.",
    "prometheus.echo": "Prints the metrics it receives, for debugging.",
    "prometheus.enrich": "Adds labels from discovered targets to metrics.",
    "loki.write": "Sends log entries to Loki push endpoints.",
    "loki.process": "Runs log entries through a pipeline of parsing and labelling stages.",
    "loki.relabel": "Rewrites or drops log entries by their labels with relabel rules.",
    "loki.echo": "Prints the log entries it receives, for debugging.",
    "loki.enrich": "Adds labels from discovered targets to log entries.",
    "loki.secretfilter": "Redacts secrets found in log lines.",
    "local.file": "Reads a file from disk and exports its content, watching for changes.",
    "local.file_match": "Expands glob patterns into a list of file targets.",
    "discovery.relabel": "Rewrites, filters or drops targets with relabel rules.",
    "faro.receiver": "Accepts telemetry from the Faro web SDK.",
    "beyla.ebpf": "Instruments applications with eBPF (Beyla) for metrics and traces.",
    "pyroscope.write": "Sends profiles to Pyroscope.",
    "pyroscope.scrape": "Collects profiles from targets over HTTP.",
    "pyroscope.relabel": "Rewrites or drops profiles by their labels.",
    "pyroscope.ebpf": "Collects CPU profiles of processes with eBPF.",
    "pyroscope.java": "Collects profiles from Java processes with an attached profiler.",
    "pyroscope.receive_http": "Accepts profiles pushed over HTTP.",
    "pyroscope.enrich": "Adds labels from discovered targets to profiles.",
    "otelcol.processor.batch": "Groups telemetry into batches before passing it on.",
    "otelcol.processor.memory_limiter": "Refuses data when the process is near its memory limit.",
    "otelcol.exporter.otlp": "Sends telemetry over OTLP/gRPC.",
    "otelcol.exporter.otlphttp": "Sends telemetry over OTLP/HTTP.",
    "otelcol.exporter.prometheus": "Converts OpenTelemetry metrics to Prometheus samples and forwards them.",
    "otelcol.exporter.loki": "Converts OpenTelemetry logs to Loki entries and forwards them.",
    "otelcol.exporter.debug": "Prints the telemetry it receives, for debugging.",
    "otelcol.receiver.otlp": "Accepts OTLP telemetry over gRPC and HTTP.",
    "otelcol.receiver.prometheus": "Accepts Prometheus samples and converts them to OpenTelemetry metrics.",
    "otelcol.receiver.loki": "Accepts Loki entries and converts them to OpenTelemetry logs.",
    "otelcol.receiver.opencensus": "Removed: used to accept OpenCensus telemetry.",
    "otelcol.extension.jaeger_remote_sampling": "Serves Jaeger remote sampling strategies.",
    "otelcol.storage.file": "Provides file-backed storage for OpenTelemetry components.",
    "mimir.rules.kubernetes": "Syncs PrometheusRule resources from Kubernetes to the Mimir ruler.",
    "mimir.alerts.kubernetes": "Syncs Alertmanager configuration from Kubernetes to Mimir.",
    "loki.rules.kubernetes": "Syncs PrometheusRule resources from Kubernetes to the Loki ruler.",
    "remote.http": "Polls a URL and exports the response body.",
    "remote.s3": "Polls an S3 object and exports its content.",
    "remote.vault": "Reads secrets from HashiCorp Vault.",
    "remote.kubernetes.configmap": "Exports the data of a Kubernetes ConfigMap.",
    "remote.kubernetes.secret": "Exports the data of a Kubernetes Secret.",
}


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    src = json.load(open(sys.argv[1], encoding="utf-8"))
    out_path = sys.argv[2] if len(sys.argv) > 2 else __file__.rsplit("/", 1)[0] + "/catalog.json"
    components = []
    for e in sorted(src, key=lambda e: e["name"]):
        kind = "component" if e["kind"] == "component" else "config"
        c = {"name": e["name"], "kind": kind, "stability": STABILITY[e.get("stability")]}
        if e.get("community"):
            c["community"] = True
        if e.get("removed"):
            c["removed"] = True
        c["label"] = "required" if e.get("label_required") else "forbidden"
        c["doc"] = describe(e["name"], kind)
        body = body_of(e)
        if e["name"] in ("declare",) or e.get("removed"):
            body["open"] = True
        if e["name"] == "foreach":
            for b in body["blocks"]:
                if b["n"] == "template":
                    b["r"] = True
                    b.pop("m", None)
        c["body"] = body
        c["exports"] = [[x["name"], norm_type(x["type"], e["name"])] for x in e["exports"]]
        components.append(c)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"version": 1, "components": components}, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print("wrote %d entries to %s" % (len(components), out_path))


if __name__ == "__main__":
    main()
