#!/usr/bin/env python3
"""Writes Huiyan's Grafana dashboards (deploy/grafana/dashboards/*.json) from the panel lists below.

Written by hand in plain Python rather than with a dashboard library: the dashboards use three panel
kinds (time series, stat, table) and one data source, so the whole of Grafana's JSON model they need fits
in the few helpers here, with no dependency to install or keep up with. Every query lives in one place,
readable next to its title, and the JSON is regenerated from it (``python3 deploy/grafana/generate.py``);
``tests/stream/test_dashboards.py`` fails when the committed JSON and this file disagree, and
``tests/integration/test_operations.py`` runs every query against a Prometheus scraping a live worker.

Queries use Grafana's ``$__rate_interval`` and ``$__range`` and the dashboards' variables ``$instance``
(workers, regex) and ``$tenant``. docs/operations.md says how to import or provision them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
W = '{instance=~"$instance"}'  # the workers chosen in the dashboard's instance variable
RATE = "[$__rate_interval]"


@dataclass
class Query:
    expr: str
    legend: str = ""
    # Tables show the current value of each series (instant query), time series a range.
    instant: bool = False


@dataclass
class Panel:
    title: str
    description: str
    queries: list[Query]
    unit: str = "short"
    kind: str = "timeseries"  # or "stat", "table"
    width: int = 12
    height: int = 8
    stacked: bool = False
    # Legends of series drawn against a second axis on the right (counts beside rates).
    right_axis: tuple[str, ...] = ()


@dataclass
class Row:
    title: str
    panels: list[Panel] = field(default_factory=list)


def quantiles(metric: str, matcher: str = W, by: str = "le") -> list[Query]:
    """p50 and p99 of a histogram over the rate interval."""
    return [
        Query(f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket{matcher}{RATE})))", f"p{p}")
        for q, p in (("0.5", 50), ("0.99", 99))
    ]


FLEET = [
    Row(
        "Traffic",
        [
            Panel(
                "Events in",
                "Events arriving at the content topic (from its end offsets, whether or not a worker reads "
                "them) and events the chosen workers read.",
                [
                    Query(
                        f"sum(max by (topic, partition) (rate(huiyan_topic_end_offsets_total{RATE})))",
                        "arriving at the topic",
                    ),
                    Query(f"sum(rate(huiyan_events_received_total{W}{RATE}))", "read by workers"),
                ],
                unit="ops",
                width=8,
            ),
            Panel(
                "Decisions by action",
                "Decisions produced per second, by action.",
                [Query(f"sum by (action) (rate(huiyan_decisions_total{W}{RATE}))", "{{action}}")],
                unit="ops",
                width=8,
                stacked=True,
            ),
            Panel(
                "Dead letters by reason",
                "Events sent to the dead-letter topic per second, by reason code (docs/contracts.md).",
                [Query(f"sum by (reason) (rate(huiyan_dead_letters_total{W}{RATE}))", "{{reason}}")],
                unit="ops",
                width=8,
                stacked=True,
            ),
            Panel(
                "Consumer lag per partition",
                "Records of the content topic the group has not committed yet (end offset minus committed "
                "offset), the largest report per partition. It grows while no worker decides.",
                [Query("max by (topic, partition) (huiyan_consumer_lag)", "{{topic}} / {{partition}}")],
                unit="short",
                width=12,
            ),
            Panel(
                "Workers up",
                "Workers answering /metrics (Prometheus job huiyan), and the lag reporters.",
                [
                    Query('sum(up{job="huiyan"})', "workers"),
                    Query('sum(up{job="huiyan-lag"})', "huiyan lag --serve"),
                ],
                kind="stat",
                width=6,
            ),
            Panel(
                "Lag reads failing",
                "Failed reads of the group's offsets per second (HuiyanConsumerLagUnknown).",
                [Query(f"sum(rate(huiyan_consumer_lag_errors_total{RATE}))", "failed reads")],
                unit="ops",
                width=6,
            ),
        ],
    ),
    Row(
        "Service level",
        [
            Panel(
                "Decisions late or not made (5 min)",
                "Share of the arriving events not decided within 2.5 s (objective: at most 1%; an event "
                "nobody decides counts). Recorded by deploy/prometheus/rules/slo.yml.",
                [
                    Query("huiyan:decisions_late:ratio_rate5m", "5 min"),
                    Query("huiyan:decisions_late:ratio_rate1h", "1 h"),
                ],
                unit="percentunit",
                width=8,
            ),
            Panel(
                "Dead-letter ratio",
                "Share of the events read that went to the dead-letter topic (objective: at most 1%).",
                [
                    Query("huiyan:dead_letters:ratio_rate5m", "5 min"),
                    Query("huiyan:dead_letters:ratio_rate1h", "1 h"),
                ],
                unit="percentunit",
                width=8,
            ),
            Panel(
                "Error budget burn rate (1 h)",
                "How many times faster than the 30-day budget allows each objective spends it: 14.4 over "
                "1 h (and 5 min) pages.",
                [
                    Query("huiyan:decisions_late:ratio_rate1h / 0.01", "decisions late"),
                    Query("huiyan:dead_letters:ratio_rate1h / 0.01", "dead letters"),
                ],
                unit="short",
                width=8,
            ),
        ],
    ),
    Row(
        "Latency",
        [
            Panel(
                "End-to-end latency",
                "From the event's time (created_at, else the Kafka record time) to its acknowledged "
                "decision.",
                quantiles("huiyan_end_to_end_latency_seconds"),
                unit="s",
                width=8,
            ),
            Panel(
                "Processing latency per batch",
                "Time to decide one batch (parse, label checks, classifiers, policy), without delivery.",
                quantiles("huiyan_batch_processing_seconds"),
                unit="s",
                width=8,
            ),
            Panel(
                "Delivery latency per batch",
                "Time until the broker acknowledged a batch's decisions and dead letters.",
                quantiles("huiyan_batch_delivery_seconds"),
                unit="s",
                width=8,
            ),
            Panel(
                "Batch sizes",
                "Events per decided batch: the median, the 99th percentile and the mean.",
                [
                    *quantiles("huiyan_batch_size"),
                    Query(
                        f"sum(rate(huiyan_batch_size_sum{W}{RATE})) "
                        f"/ sum(rate(huiyan_batch_size_count{W}{RATE}))",
                        "mean",
                    ),
                ],
                width=12,
            ),
            Panel(
                "Delivery retries",
                "Produce attempts that failed and were retried, by topic kind (HuiyanDeliveryRetries).",
                [Query(f"sum by (topic) (rate(huiyan_send_retries_total{W}{RATE}))", "{{topic}}")],
                unit="ops",
                width=12,
            ),
        ],
    ),
    Row(
        "Judgement",
        [
            Panel(
                "Classifier failures and timeouts",
                "Classifier calls that failed, timed out or were refused because the classifier hung "
                "(a failed batch is bisected, so one bad text costs several calls), and the texts that "
                "went unscored.",
                [
                    Query(
                        f'sum by (classifier, outcome) (rate(huiyan_classifier_calls_total{{outcome!="ok", '
                        f'instance=~"$instance"}}{RATE}))',
                        "{{classifier}} {{outcome}}",
                    ),
                    Query(
                        f'sum(rate(huiyan_decision_notes_total{{code="classifier_unscored", '
                        f'instance=~"$instance"}}{RATE}))',
                        "texts unscored",
                    ),
                ],
                unit="ops",
                width=8,
            ),
            Panel(
                "Label status",
                "Decisions by the overall label status, and by each label's own verdict: the implicit "
                "label (file metadata) and the explicit label (what a person sees), GB 45438-2025.",
                [
                    Query(
                        f"sum by (status) (rate(huiyan_label_status_total{W}{RATE}))", "overall {{status}}"
                    ),
                    Query(
                        f"sum by (label, status) (rate(huiyan_label_verdicts_total{W}{RATE}))",
                        "{{label}} {{status}}",
                    ),
                ],
                unit="ops",
                width=8,
                stacked=True,
            ),
            Panel(
                "Reasons by category",
                "Reasons that fired per second, by category.",
                [Query(f"sum by (category) (rate(huiyan_decision_reasons_total{W}{RATE}))", "{{category}}")],
                unit="ops",
                width=8,
                stacked=True,
            ),
            Panel(
                "Label findings",
                "Label-compliance findings per second, by code.",
                [Query(f"sum by (code) (rate(huiyan_label_findings_total{W}{RATE}))", "{{code}}")],
                unit="ops",
                width=12,
            ),
            Panel(
                "Strikes",
                "Strikes recorded against accounts, decisions escalated for repeat offenders (reasons of "
                "category account), and accounts with strikes held in memory (right axis: count).",
                [
                    Query(f"sum(rate(huiyan_strikes_total{W}{RATE}))", "strikes recorded /s"),
                    Query(
                        f'sum(rate(huiyan_decision_reasons_total{{category="account", '
                        f'instance=~"$instance"}}{RATE}))',
                        "escalations /s",
                    ),
                    Query(f"max(huiyan_strike_accounts{W})", "accounts held"),
                ],
                width=12,
                right_axis=("accounts held",),
            ),
            Panel(
                "Pixel reads (the visible label)",
                "Looks at image and video pixels for the visible label (OCR), by outcome: busy and "
                "timed_out events were decided without one (HuiyanPixelReadsSkipped); and the mean "
                "seconds of one read (right axis: seconds).",
                [
                    Query(
                        f"sum by (content_type, outcome) (rate(huiyan_pixel_reads_total{W}{RATE}))",
                        "{{content_type}} {{outcome}}",
                    ),
                    Query(
                        f"sum by (content_type) (rate(huiyan_pixel_read_seconds_total{W}{RATE})) / sum by "
                        f'(content_type) (rate(huiyan_pixel_reads_total{{outcome=~"read|unreadable", '
                        f'instance=~"$instance"}}{RATE}))',
                        "{{content_type}} s per read",
                    ),
                ],
                width=24,
                right_axis=("image s per read", "video s per read"),
            ),
        ],
    ),
    Row(
        "Policy",
        [
            Panel(
                "Policy version in force per worker",
                "The live (and shadow) policy each worker applies. More than one live version for five "
                "minutes fires HuiyanPoliciesDiverge.",
                [
                    Query(f"max by (instance, version) (huiyan_policy_info{W})", instant=True),
                    Query(f"max by (instance, version) (huiyan_shadow_policy_info{W})", instant=True),
                ],
                kind="table",
                width=8,
            ),
            Panel(
                "Shadow disagreement",
                "Share of the events decided under the shadow policy whose shadow action differs from the "
                "live one; empty while no shadow policy is set.",
                [
                    Query(
                        f"sum(rate(huiyan_shadow_disagreements_total{W}{RATE})) "
                        f"/ sum(rate(huiyan_shadow_decisions_total{W}{RATE}))",
                        "disagreement",
                    )
                ],
                unit="percentunit",
                width=8,
            ),
            Panel(
                "Shadow decisions by action pair",
                "Events decided under the shadow policy, by live and shadow action.",
                [
                    Query(
                        f"sum by (live_action, shadow_action) (rate(huiyan_shadow_decisions_total{W}{RATE}))",
                        "{{live_action}} -> {{shadow_action}}",
                    )
                ],
                unit="ops",
                width=8,
            ),
            Panel(
                "Policy updates",
                "Records read from the policy topic, by slot and outcome (rejected: the previous policy "
                "stays in force).",
                [
                    Query(
                        f"sum by (slot, outcome) (increase(huiyan_policy_updates_total{W}[$__range]))",
                        "{{slot}} {{outcome}}",
                        instant=True,
                    )
                ],
                kind="table",
                width=12,
            ),
            Panel(
                "Huiyan version per worker",
                "The Huiyan build each worker runs.",
                [Query(f"max by (instance, version) (huiyan_build_info{W})", instant=True)],
                kind="table",
                width=12,
            ),
        ],
    ),
]

T = '{tenant="$tenant"}'

TENANT = [
    Row(
        "Decisions of the tenant",
        [
            Panel(
                "Decisions by action",
                "The tenant's decisions per second, by action.",
                [Query(f"sum by (action) (rate(huiyan_tenant_decisions_total{T}{RATE}))", "{{action}}")],
                unit="ops",
                width=12,
                stacked=True,
            ),
            Panel(
                "Share of decisions by action",
                "Each action's share of the tenant's decisions.",
                [
                    Query(
                        f"sum by (action) (rate(huiyan_tenant_decisions_total{T}{RATE})) / ignoring (action) "
                        f"group_left sum(rate(huiyan_tenant_decisions_total{T}{RATE}))",
                        "{{action}}",
                    )
                ],
                unit="percentunit",
                width=12,
            ),
            Panel(
                "Decisions in the time range",
                "The tenant's decisions in the dashboard's time range, by action.",
                [
                    Query(
                        f"sum by (action) (increase(huiyan_tenant_decisions_total{T}[$__range]))",
                        "{{action}}",
                        instant=True,
                    )
                ],
                kind="stat",
                width=24,
                height=5,
            ),
        ],
    ),
    Row(
        "Reasons",
        [
            Panel(
                "Reasons by category",
                "Reasons that fired on the tenant's events per second, by category.",
                [
                    Query(
                        f"sum by (category) (rate(huiyan_tenant_decision_reasons_total{T}{RATE}))",
                        "{{category}}",
                    )
                ],
                unit="ops",
                width=12,
                stacked=True,
            ),
            Panel(
                "Top reasons in the time range",
                "The ten reason codes that fired most on the tenant's events in the time range.",
                [
                    Query(
                        f"topk(10, sum by (category, code) "
                        f"(increase(huiyan_tenant_decision_reasons_total{T}[$__range])))",
                        instant=True,
                    )
                ],
                kind="table",
                width=12,
            ),
        ],
    ),
    Row(
        "Latency",
        [
            Panel(
                "End-to-end latency",
                "From the event's time to its acknowledged decision, for the tenant's events.",
                quantiles("huiyan_tenant_end_to_end_latency_seconds", T),
                unit="s",
                width=12,
            ),
            Panel(
                "Decided within 2.5 s",
                "Share of the tenant's decisions acknowledged within 2.5 s of the event time.",
                [
                    Query(
                        f"sum(rate(huiyan_tenant_end_to_end_latency_seconds_bucket"
                        f'{{tenant="$tenant", le="2.5"}}{RATE})) '
                        f"/ sum(rate(huiyan_tenant_end_to_end_latency_seconds_count{T}{RATE}))",
                        "within 2.5 s",
                    )
                ],
                unit="percentunit",
                width=12,
            ),
        ],
    ),
]


def variables(tenant: bool) -> list[dict[str, Any]]:
    found = [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        }
    ]
    if tenant:
        found.append(
            {
                "name": "tenant",
                "label": "Tenant",
                "type": "query",
                "datasource": DATASOURCE,
                "query": {"query": "label_values(huiyan_tenant_decisions_total, tenant)", "refId": "tenant"},
                "definition": "label_values(huiyan_tenant_decisions_total, tenant)",
                "refresh": 2,
                "sort": 1,
                "current": {},
                "hide": 0,
            }
        )
    else:
        found.append(
            {
                "name": "instance",
                "label": "Workers",
                "type": "query",
                "datasource": DATASOURCE,
                "query": {"query": "label_values(huiyan_build_info, instance)", "refId": "instance"},
                "definition": "label_values(huiyan_build_info, instance)",
                "refresh": 2,
                "sort": 1,
                "multi": True,
                "includeAll": True,
                "allValue": ".*",
                "current": {"text": "All", "value": "$__all"},
                "hide": 0,
            }
        )
    return found


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    targets = []
    for index, query in enumerate(panel.queries):
        target: dict[str, Any] = {
            "refId": chr(ord("A") + index),
            "datasource": DATASOURCE,
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "range": not query.instant,
            "instant": query.instant,
        }
        if panel.kind == "table":
            target["format"] = "table"
        targets.append(target)
    defaults: dict[str, Any] = {"unit": panel.unit}
    options: dict[str, Any]
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 20 if panel.stacked else 0,
            "stacking": {"mode": "normal" if panel.stacked else "none", "group": "A"},
            "showPoints": "never",
        }
        options = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif panel.kind == "stat":
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "textMode": "value_and_name",
        }
    else:
        options = {"showHeader": True}
    found = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {
            "defaults": defaults,
            "overrides": [
                {
                    "matcher": {"id": "byName", "options": name},
                    "properties": [{"id": "custom.axisPlacement", "value": "right"}],
                }
                for name in panel.right_axis
            ],
        },
        "options": options,
    }
    if panel.kind == "table":
        # One row per series, its labels as columns, Grafana's time column hidden.
        found["transformations"] = [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True}}},
        ]
    return found


def dashboard(uid: str, title: str, description: str, rows: list[Row], tenant: bool) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    panel_id, y = 1, 0
    for row in rows:
        panels.append(
            {
                "id": panel_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        panel_id, y, x, line_height = panel_id + 1, y + 1, 0, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y, line_height = 0, y + line_height, 0
            panels.append(panel_json(panel, panel_id, x, y))
            panel_id, x, line_height = panel_id + 1, x + panel.width, max(line_height, panel.height)
        y += line_height
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["huiyan"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": variables(tenant)},
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }


DASHBOARDS = {
    "huiyan-fleet.json": dashboard(
        "huiyan-fleet",
        "Huiyan fleet",
        "Every Huiyan worker: traffic, lag, service level, latency, judgement and policy.",
        FLEET,
        tenant=False,
    ),
    "huiyan-tenant.json": dashboard(
        "huiyan-tenant",
        "Huiyan tenant",
        "One tenant's decisions, reasons and latency (tenants named in HUIYAN_METRICS_TENANTS or the "
        "live policy's overrides; the others are counted as tenant other).",
        TENANT,
        tenant=True,
    ),
}


def rendered() -> dict[str, str]:
    """File name -> the JSON text it should hold."""
    return {name: json.dumps(doc, indent=2, ensure_ascii=False) + "\n" for name, doc in DASHBOARDS.items()}


def main() -> int:
    out = HERE / "dashboards"
    out.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (out / name).write_text(text, "utf-8")
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
