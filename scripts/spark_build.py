"""``helsestat build`` as a Spark application: the driver script for ``spark-submit``.

``HELSESTAT_ENGINE=spark helsestat build`` starts a Spark session of its own in local mode
(``local[2]``), which is right on one machine but would ignore ``spark-submit --master``.
This script takes the session ``spark-submit`` configured (master, executors, memory:
``SparkSession.builder.getOrCreate()`` with nothing set in code) and runs the same build
with it, reading every other setting from the ``HELSESTAT_*`` environment as the CLI does
(docs/settings.md). It prints one JSON line: the release, the Spark master and application
id, and the tables published. See docs/spark-cluster.md.

Usage::

    spark-submit --master spark://head:7077 scripts/spark_build.py [--release ID]
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default=None, help="id of the new release (default: time)")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    from helsestat.aggregate import SparkEngine
    from helsestat.build import build
    from helsestat.reference.holder import ReferenceHolder
    from helsestat.settings import Settings
    from helsestat.store.lake import Lake

    settings = Settings()
    spark = SparkSession.builder.appName("helsestat build").getOrCreate()
    holder = ReferenceHolder.from_settings(settings)
    try:
        # the session is spark-submit's: the engine uses it and leaves it running
        with SparkEngine(session=spark) as engine:
            release = build(
                Lake(settings.data_dir),
                engine,
                mode=settings.protection_mode,
                threshold=settings.suppression_threshold,
                reference=holder.get(),
                release_id=args.release,
                progress=lambda message: print(message, file=sys.stderr),
            )
        context = spark.sparkContext
        print(
            json.dumps(
                {
                    "release": release.id,
                    "master": context.master,
                    "application": context.applicationId,
                    "tables": list(release.tables),
                }
            )
        )
    finally:
        holder.dispose()
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
