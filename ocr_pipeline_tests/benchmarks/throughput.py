"""Throughput, memory and baselines at catalog scale. Run by hand (not a test):

    python -m ocr_pipeline_tests.benchmarks.throughput [--only text,ocr,parse,sensor] [--ocr-pages 40]

Each corpus goes through the real Dagster assets (``materialize_document`` on a temporary
instance, local stores) in a fresh subprocess, measured as users see it: the whole process's wall
time (start-up included, shown separately) and the peak of its process tree's summed RSS. Baselines run on the
same files in the same run: ``pdftotext`` (poppler-utils) for the text path, the ``tesseract``
CLI on the very PNGs the pipeline rendered for the OCR path, each with its character error rate
against the born-digital text of the same pages. Every row is printed as soon as it is measured.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium

from ocr_pipeline.samples import LAYOUTS, generate_catalog, scan
from ocr_pipeline_tests.support import PeakRss

ROW = "{:<34} {:>6} {:>9} {:>8} {:>9} {:>7}"


def peak_rss_mib() -> float:
    """Peak RSS of this process and its finished children (render workers), in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def large_catalog(pages: int) -> bytes:
    """A born-digital catalog of exactly ``pages`` pages: sections in each layout's style.

    Sections differ in seed and code style, so few courses repeat (a catalog repeated whole would
    flag every page as a duplicate and measure the review path instead).
    """
    sections = [layout for layout in LAYOUTS if layout != "one_per_page"]
    target = pdfium.PdfDocument.new()
    number = 0
    while len(target) < pages:
        source = pdfium.PdfDocument(generate_catalog(sections[number % len(sections)], seed=number, n_courses=250).pdf)
        target.import_pages(source, list(range(min(len(source), pages - len(target)))))
        number += 1
    buffer = io.BytesIO()
    target.save(buffer)
    return buffer.getvalue()


def twelve_page_catalogs(count: int) -> list[bytes]:
    """``count`` distinct 12-page born-digital catalogs across the layouts."""
    catalogs = []
    for number in range(count):
        source = pdfium.PdfDocument(generate_catalog(LAYOUTS[number % len(LAYOUTS)], seed=number, n_courses=96).pdf)
        target = pdfium.PdfDocument.new()
        while len(target) < 12:
            target.import_pages(source, list(range(min(len(source), 12 - len(target)))))
        buffer = io.BytesIO()
        target.save(buffer)
        catalogs.append(buffer.getvalue())
    return catalogs


def scanned_pages(total: int) -> tuple[list[bytes], list[str]]:
    """Image-only catalogs holding ``total`` pages, and each page's true text (from the born-digital twin)."""
    documents, truth = [], []
    seed = 0
    while len(truth) < total:
        layout = LAYOUTS[seed % len(LAYOUTS)]
        born_digital = generate_catalog(layout, seed=seed, n_courses=12).pdf
        source = pdfium.PdfDocument(born_digital)
        keep = min(len(source), total - len(truth))
        trimmed = pdfium.PdfDocument.new()
        trimmed.import_pages(source, list(range(keep)))
        buffer = io.BytesIO()
        trimmed.save(buffer)
        documents.append(scan(buffer.getvalue(), seed=seed))
        truth += [source[i].get_textpage().get_text_range() for i in range(keep)]
        seed += 1
    return documents, truth


def run_pipeline(directory: Path, single_run: bool = False) -> dict:
    """Materialise every PDF under ``directory/landing`` through Dagster in a subprocess, measured as a
    user sees it: the whole process's wall time (imports and start-up included) and the peak of the
    summed RSS of its process tree (render workers included), sampled every 50 ms."""
    command = [sys.executable, "-m", "ocr_pipeline_tests.benchmarks.throughput", "--worker", str(directory)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command + (["--single-run"] if single_run else []), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with PeakRss(process.pid, tree=True, interval=0.05) as rss:
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    peak = rss.peak
    if process.returncode != 0:
        raise RuntimeError(stderr[-3000:])
    inner = json.loads(stdout.strip().splitlines()[-1])
    return {**inner, "seconds": seconds, "work_seconds": inner["seconds"], "rss_mib": peak / 2**20}


def worker(directory: Path, single_run: bool) -> None:
    """The measured part: one Dagster instance, local stores; a run per document, or one run for all."""
    import dagster as dg

    from ocr_pipeline.defs.resources import local_resources
    from ocr_pipeline.materialize import CATALOG_GRAPH, failure_message, materialize_document, run_config

    resources = local_resources(directory / "landing", directory)
    files = sorted(p.name for p in (directory / "landing").glob("*.pdf"))
    (directory / "dagster").mkdir()
    started = time.perf_counter()
    config = run_config(log_level="ERROR")
    with dg.instance_for_test(temp_dir=str(directory / "dagster")) as instance:
        if single_run:
            instance.add_dynamic_partitions("catalog_documents", files)
            result = dg.materialize(
                CATALOG_GRAPH,
                instance=instance,
                resources=resources,
                run_config=config,
                tags={"dagster/asset_partition_range_start": files[0], "dagster/asset_partition_range_end": files[-1]},
            )
            failed = result.asset_materializations_for_node("validated_courses")[0].metadata["failed"].value
            if failed:
                raise SystemExit(f"{failed} documents failed")
        for name in [] if single_run else files:
            result = materialize_document(instance, name, resources, config)
            if not result.success:
                raise SystemExit(f"{name}: {failure_message(result)}")
    print(json.dumps({"seconds": time.perf_counter() - started, "rss_mib": peak_rss_mib(), "documents": len(files)}))


def baseline_pdftotext(files: list[Path]) -> tuple[float, float]:
    started = time.perf_counter()
    for path in files:
        subprocess.run(["pdftotext", str(path), str(path.with_suffix(".txt"))], check=True)
    return time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def normalised(text: str) -> str:
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> float:
    from rapidfuzz.distance import Levenshtein

    reference, hypothesis = normalised(reference), normalised(hypothesis)
    return Levenshtein.distance(reference, hypothesis) / max(len(reference), 1)


def row(name: str, pages: int | str, seconds: float, rss: float | str, extra: str = "") -> None:
    rate = f"{pages / seconds:.1f}" if isinstance(pages, int) and seconds else "-"
    rss_text = f"{rss:.0f}" if isinstance(rss, float) else rss
    print(ROW.format(name, pages, f"{seconds:.2f}", rate, rss_text, extra), flush=True)


def bench_text(root: Path) -> None:
    for pages in (100, 600):
        directory = root / f"text-{pages}"
        (directory / "landing").mkdir(parents=True)
        pdf = directory / "landing" / f"catalog-{pages}.pdf"
        pdf.write_bytes(large_catalog(pages))
        measured = run_pipeline(directory)
        row(
            f"text path, {pages}-page catalog",
            pages,
            measured["seconds"],
            measured["rss_mib"],
            f"{measured['seconds'] - measured['work_seconds']:.1f} s start-up",
        )
        seconds, rss = baseline_pdftotext([pdf])
        row(f"  baseline pdftotext, {pages} pages", pages, seconds, "-", f"ratio {measured['seconds'] / seconds:.1f}x")
    directory = root / "text-50x12"
    (directory / "landing").mkdir(parents=True)
    files = []
    for number, data in enumerate(twelve_page_catalogs(50)):
        files.append(directory / "landing" / f"catalog-{number:02d}.pdf")
        files[-1].write_bytes(data)
    measured = run_pipeline(directory)
    row("text path, 50 docs x 12 pages", 600, measured["seconds"], measured["rss_mib"], "one run per document")
    for stale in ("work", "output", "dagster"):
        shutil.rmtree(directory / stale)
    (directory / "review.db").unlink()
    measured = run_pipeline(directory, single_run=True)
    row("text path, 50 docs x 12 pages", 600, measured["seconds"], measured["rss_mib"], "one run for all (backfill)")
    seconds, _ = baseline_pdftotext(files)
    row("  baseline pdftotext, 50 x 12", 600, seconds, "-", f"ratio {measured['seconds'] / seconds:.1f}x")


def bench_parse(root: Path) -> None:
    from ocr_pipeline.catalog.parser import parse_pages
    from ocr_pipeline.storage.objects import LocalObjectStore
    from ocr_pipeline.storage.work import WorkStore

    work = WorkStore(LocalObjectStore(root / "text-600" / "work"))
    document_id = next(p.name for p in (root / "text-600" / "work" / "documents").iterdir())
    pages = work.page_results(document_id)
    started = time.perf_counter()
    entries = parse_pages(pages)
    seconds = time.perf_counter() - started
    row("parsing alone, 600 pages", len(pages), seconds, "-", f"{len(entries) / seconds:.0f} entries/s")


def bench_ocr(root: Path, total_pages: int) -> None:
    directory = root / "ocr"
    (directory / "landing").mkdir(parents=True)
    documents, truth = scanned_pages(total_pages)
    for number, data in enumerate(documents):
        (directory / "landing" / f"scanned-{number:02d}.pdf").write_bytes(data)
    measured = run_pipeline(directory)
    from ocr_pipeline.storage.objects import LocalObjectStore
    from ocr_pipeline.storage.work import WorkStore

    work = WorkStore(LocalObjectStore(directory / "work"))
    ours, images = [], []
    for number in range(len(documents)):
        info = work.document_info(f"scanned-{number:02d}.pdf")
        assert info is not None
        for result in work.page_results(info.document_id):
            ours.append(result.text.text)
            images.append(directory / "work" / str(result.ref.image_uri))
    our_cer = sum(cer(t, o) for t, o in zip(truth, ours)) / len(truth)
    row(
        f"OCR path (rapidocr), {len(truth)} pages",
        len(truth),
        measured["seconds"],
        measured["rss_mib"],
        f"CER {our_cer:.3f}",
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:
        texts = list(
            pool.map(
                lambda image: (
                    subprocess.run(
                        ["tesseract", str(image), "stdout"], capture_output=True, text=True, check=True
                    ).stdout
                ),
                images,
            )
        )
    seconds = time.perf_counter() - started
    tesseract_cer = sum(cer(t, o) for t, o in zip(truth, texts)) / len(truth)
    row(f"  baseline tesseract CLI, {len(images)} pages", len(images), seconds, "-", f"CER {tesseract_cer:.3f}")


def bench_sensor(objects: int) -> None:
    import boto3
    import dagster as dg
    from moto.server import ThreadedMotoServer

    from ocr_pipeline.defs.resources import StorageResource
    from ocr_pipeline.defs.sensors import s3_catalog_upload_sensor
    from ocr_pipeline_tests.support import free_port

    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        os.environ.setdefault(name, value)  # the loopback moto server; never real AWS
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="landing")
        with ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda n: s3.put_object(Bucket="landing", Key=f"in/U{n % 40}/c{n:05d}.pdf", Body=b"%PDF"),
                    range(objects),
                )
            )
        storage = StorageResource(landing_uri="s3://landing/in", s3_endpoint_url=endpoint)
        cursor, ticks, requested = None, [], 0
        with dg.instance_for_test() as instance:

            def tick() -> dg.SensorResult:
                nonlocal cursor
                started = time.perf_counter()
                result = s3_catalog_upload_sensor(
                    dg.build_sensor_context(instance=instance, cursor=cursor, resources={"storage": storage})
                )
                ticks.append(time.perf_counter() - started)
                cursor = result.cursor
                return result

            while requested < objects:
                requested += len(tick().run_requests)
            row(
                f"sensor tick, {objects} new objects",
                "-",
                max(ticks),
                "-",
                f"{len(ticks)} ticks (100 runs each), slowest shown",
            )
            ticks.clear()
            for _ in range(4):
                assert not tick().run_requests
            row(
                f"sensor tick, {objects} seen objects",
                "-",
                max(ticks),
                "-",
                "steady state: lists up to 10,000 keys a tick, slowest of 4",
            )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="text,parse,ocr,sensor")
    parser.add_argument("--ocr-pages", type=int, default=40)
    parser.add_argument("--sensor-objects", type=int, default=20_000)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--single-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.single_run)
        return
    for tool in ("pdftotext", "tesseract"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install poppler-utils tesseract-ocr")
    only = set(args.only.split(","))
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {sys.platform}, python {sys.version.split()[0]}")
    print(ROW.format("corpus", "pages", "wall s", "pages/s", "peak MiB", "notes"))
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as tmp:
        root = Path(tmp)
        if "text" in only or "parse" in only:
            bench_text(root)
        if "parse" in only:
            bench_parse(root)
        if "ocr" in only:
            bench_ocr(root, args.ocr_pages)
    if "sensor" in only:
        bench_sensor(args.sensor_objects)


if __name__ == "__main__":
    main()
