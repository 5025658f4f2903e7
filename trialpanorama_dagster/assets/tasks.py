"""tasks/<task>: the eight task sample sets, each with counts, schema, leakage and balance checks."""
import json

import dagster as dg

from ..resources.tasks import TaskBuildResource
from ..resources.warehouse import WarehouseResource
from ..tasks import quality
from ..tasks.base import TASKS
from ..tasks.registry import build_task
from .checks import check_result

TASK_DOC = {
    "study_search": "Review setup (background, objectives, selection criteria) -> included study PMIDs.",
    "study_screening": "Review setup + candidate studies -> included/excluded per candidate (natural and balanced).",
    "evidence_summary": "Multiple-choice questions about a review's findings over its included studies.",
    "arm_design": "Multiple choice: the trial's arms among arms of similar trials.",
    "eligibility_criteria_design": "Multiple choice: the trial's eligibility criteria among similar trials' criteria.",
    "endpoint_design": "Multiple choice: the trial's primary outcome measures among similar trials' measures.",
    "sample_size_estimation": "Registered design and stated assumptions -> the enrolled sample size (ACTUAL).",
    "trial_completion_assessment": "Design, criteria and arms -> complete/terminate with the termination class.",
}
REVIEW_TASKS = ("study_search", "study_screening", "evidence_summary")
TRIAL_DEPS = [dg.AssetKey(["core", t]) for t in ("studies", "arm_groups", "interventions", "endpoints", "outcomes",
                                                 "conditions", "mesh_terms")] + [
    dg.AssetKey(["link", "trial_clusters"]), dg.AssetKey(["link", "conditions"])]
REVIEW_DEPS = [dg.AssetKey(["literature", "reviews"]), dg.AssetKey(["literature", "pubmed"]),
               dg.AssetKey(["link", "trial_articles"])]


def _task_asset(task: str) -> dg.AssetsDefinition:
    deps = REVIEW_DEPS if task in REVIEW_TASKS else TRIAL_DEPS + [dg.AssetKey(["link", "trial_articles"])]

    @dg.asset(key=dg.AssetKey(["tasks", task]), group_name="tasks", kinds={"duckdb", "python"}, deps=deps,
              description=TASK_DOC[task])
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
               task_build: TaskBuildResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            report = build_task(con, task, task_build.config())
            context.log.info(f"{task}: {report}")
            preview = [json.loads(r[0]) for r in con.execute(
                "SELECT record FROM task_samples WHERE task = ? ORDER BY split DESC, sample_id LIMIT 3",
                [task]).fetchall()]
            dist = quality.label_distribution(con, task)
        return dg.MaterializeResult(metadata={
            "train": report["train"], "test": report["test"], "version": report["version"],
            "dagster/row_count": report["train"] + report["test"], "seconds": report["seconds"],
            "label_distribution": dg.MetadataValue.json(dist),
            "preview": dg.MetadataValue.md("\n\n".join(
                "```json\n" + json.dumps(p, ensure_ascii=False, indent=1)[:1500] + "\n```" for p in preview))})
    return _asset


def _checks(task: str) -> list[dg.AssetChecksDefinition]:
    key = dg.AssetKey(["tasks", task])
    specs = [("counts", quality.counts, True, "both splits hold samples"),
             ("schema", quality.schema_valid, True, "every sample has the reference's fields"),
             ("split_leakage", quality.split_leakage, True,
              "no dedup cluster or review on both sides, in this set or across sets"),
             ("answer_leakage", quality.answer_leakage, True, "no test answer text inside its own inputs"),
             ("label_balance", quality.label_balance, False, "answer letters balanced (multiple choice)")]
    out = []
    for name, fn, blocking, doc in specs:
        def make(fn=fn, blocking=blocking):
            @dg.asset_check(asset=key, name=f"{task}_{name}", blocking=blocking, description=doc)
            def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
                with warehouse.connect(read_only=True) as con:
                    return check_result(fn(con, task), dg.AssetCheckSeverity.ERROR if blocking
                                        else dg.AssetCheckSeverity.WARN)
            return _check
        out.append(make())
    return out


TASK_ASSETS = [_task_asset(t) for t in TASKS]
TASK_CHECKS = [c for t in TASKS for c in _checks(t)]
