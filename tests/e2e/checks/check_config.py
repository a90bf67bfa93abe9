"""Checks of a run configured by a YAML job file (e2e.config_file).

usage: check_config.py DIR JOB_FILE MODEL_A MODEL_B OUTPUT BLOCK_ELEMENTS [SAME_FIGURES_AS_DIR]
"""
import json
import sys

from reportlib import Checker, load_json, open_h5, text


def main(directory, job_file, model_a, model_b, output, block_elements, reference=None):
    c = Checker(f"config {directory}")
    report = load_json(directory)
    config = report["manifest"]["config"]
    c.equal(config.get("config_file"), job_file, "manifest.config.config_file")
    with open(job_file, encoding="utf-8") as stream:
        c.equal(config.get("config_text"), stream.read(), "manifest.config.config_text (the job file as written)")
    c.equal(config.get("model_a"), model_a, "manifest.config.model_a")
    c.equal(config.get("model_b"), model_b, "manifest.config.model_b")
    c.equal(config.get("output"), output, "manifest.config.output")
    c.equal(config.get("block_elements"), block_elements, "manifest.config.block_elements")
    c.equal(report["manifest"]["block_elements"], block_elements, "manifest.block_elements")
    c.equal(report["models"]["a"]["path"], model_a, "models.a.path")
    c.equal(report["models"]["b"]["path"], model_b, "models.b.path")
    with open_h5(directory) as h5:
        c.equal(json.loads(text(h5["manifest"].attrs["config"])), config, "/manifest config attribute")
    if reference:
        other = load_json(reference)
        for key in ("status", "summary", "tensors", "units", "roles", "unpaired"):
            c.check(report[key] == other[key], f"'{key}' differs from the command-line run in {reference}")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), *sys.argv[7:8])
