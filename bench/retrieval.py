"""Benchmark rights-filtered catalog search on 100,000 synthetic assets x 768 dimensions.

Creates its own database on the embedded server (never the dev or test data), migrates it,
loads synthetic assets whose rights exclude about half for the query territory and date, builds
the real per-space HNSW index, then times the real `search_assets` (hybrid and vector-only,
top-10) against an exact scan of the same filter. Drops the database at the end.

    .venv/bin/python bench/retrieval.py [--rows 100000] [--queries 200]
"""

import argparse
import json
import operator
import os
import random
import statistics
import struct
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support import progress, throwaway_database

DB_NAME = "bench_retrieval"
DIMENSIONS = 768
ON = date(2026, 6, 1)
TERRITORY = "FR"
SYLLABLES = [
    "har",
    "bo",
    "lan",
    "tern",
    "ti",
    "de",
    "gul",
    "ro",
    "pe",
    "mis",
    "qua",
    "sa",
    "il",
    "sto",
    "rm",
    "li",
    "gh",
    "an",
    "cho",
    "re",
    "ef",
    "du",
    "ne",
    "cl",
]
# A wide vocabulary, as real titles have: each word appears in about 130 of 100,000 titles.
WORDS = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES[:6]})[:3000]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print one hybrid query's plan")
    args = parser.parse_args()
    with throwaway_database(DB_NAME) as socket_dir:
        run(socket_dir, args.rows, args.queries, args.explain)


def run(socket_dir: str, rows: int, queries: int, explain: bool) -> None:
    os.environ["DATABASE_URL"] = f"postgresql://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    os.environ["AI_PROVIDER"] = "local"
    import django

    django.setup()
    from django.core.management import call_command

    progress(f"migrating {DB_NAME}")
    call_command("migrate", verbosity=0)
    space = load(rows)
    build_s = build_index(space)
    report(space, rows, queries, build_s, explain)


def load(rows: int):
    from django.db import connection

    from retrieval.models import IP, EmbeddingSpace

    rng = random.Random(20261127)
    ip = IP.objects.create(name="Bench IP", slug="bench-ip")
    space = EmbeddingSpace.objects.create(
        model=f"bench-synthetic-{DIMENSIONS}", dimensions=DIMENSIONS, is_active=True
    )
    progress(f"loading {rows:,} assets with rights")
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY retrieval_asset (id, ip_id, kind, title, description, tags, caption, file, "
            "mime_type, byte_size, sha256, thumbnail, palette, family, version, is_current, "
            "source, provenance, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, rows + 1):
                title = " ".join(rng.sample(WORDS, 4))
                copy.write_row(
                    (
                        n,
                        ip.pk,
                        "still",
                        title,
                        "",
                        "{}",
                        "",
                        f"bench/{n}.png",
                        "image/png",
                        1,
                        f"{n:064x}",
                        "",
                        "{}",
                        f"00000000-0000-4000-8000-{n:012x}",
                        1,
                        True,
                        "upload",
                        "{}",
                        "2026-01-01",
                        "2026-01-01",
                    )
                )
        with cursor.copy(
            "COPY retrieval_rights (asset_id, holder, licence, worldwide, territories, "
            "valid_from, valid_until, reference_use_allowed, notes) FROM STDIN"
        ) as copy:
            for n in range(1, rows + 1):
                bucket = rng.random()
                if bucket < 0.25:  # expired before the query date
                    row = (n, "H", "L", True, "{}", "2024-01-01", "2025-12-31", True, "")
                elif bucket < 0.45:  # licensed elsewhere only
                    row = (n, "H", "L", False, "{JP,KR}", None, None, True, "")
                elif bucket < 0.5:  # reference use forbidden
                    row = (n, "H", "L", True, "{}", None, None, False, "")
                else:
                    row = (n, "H", "L", True, "{}", "2020-01-01", None, True, "")
                copy.write_row(row)
        cursor.execute("SELECT setval('retrieval_asset_id_seq', %s)", [rows])
        cursor.execute("UPDATE retrieval_asset SET search_document = to_tsvector('english', title)")
        progress("generating vectors (10 latent directions + noise), binary COPY")
        topics = Topics(rng)
        with cursor.copy(
            "COPY retrieval_assetembedding (asset_id, space_id, vector, text_sha256, embedded_at)"
            " FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
            for n in range(1, rows + 1):
                copy.write(binary_row(n, space.pk, topics.vector(n)))
                if n % 20_000 == 0:
                    progress(f"  vectors {n:,}/{rows:,}")
            copy.write(struct.pack(">h", -1))
        cursor.execute("ANALYZE")
    return space


class Topics:
    """Synthetic embeddings with the low intrinsic dimension real ones have.

    Each vector mixes a few latent directions with Gaussian weights, plus 10% noise: neighbours
    are well defined, as with text embeddings, rather than the near-ties of uniform noise.
    """

    def __init__(self, rng: random.Random, latent: int = 10) -> None:
        self.rng = rng
        self.basis = [[rng.random() - 0.5 for _ in range(DIMENSIONS)] for _ in range(latent)]

    def vector(self, seed: int) -> list[float]:
        picker = random.Random(seed)
        z = [picker.gauss(0.0, 1.0) for _ in self.basis]
        vector = [0.3 * (b / 255 - 0.5) for b in picker.randbytes(DIMENSIONS)]
        for weight, direction in zip(z, self.basis, strict=True):
            vector = list(map(operator.add, vector, map(weight.__mul__, direction)))
        return vector


_TIMESTAMP = struct.pack(">q", 0)  # 2000-01-01 UTC, in microseconds since the Postgres epoch


def binary_row(asset_id: int, space_id: int, vector: list[float]) -> bytes:
    """One tuple in Postgres binary COPY format (pgvector: dims, unused, float4 big-endian)."""
    body = struct.pack(f">HH{DIMENSIONS}f", DIMENSIONS, 0, *vector)
    return b"".join(
        (
            struct.pack(">hiqiq", 5, 8, asset_id, 8, space_id),
            struct.pack(">i", len(body)),
            body,
            struct.pack(">i", 0),
            struct.pack(">i", 8),
            _TIMESTAMP,
        )
    )


def build_index(space) -> float:
    from django.db import connection

    from retrieval.embedding import create_space_index

    progress("building the HNSW index (the one the app creates for a space)")
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
    started = time.perf_counter()
    create_space_index(space)
    build_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE retrieval_assetembedding")
    progress(f"index built in {build_s:.1f} s")
    return build_s


class BenchEmbedder:
    """Hands search_assets the synthetic query vector for each query text."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.model, self.dimensions = f"bench-synthetic-{DIMENSIONS}", DIMENSIONS

    def embed(self, texts, *, task="query"):
        return [self.vectors[text] for text in texts]


def report(space, rows: int, queries: int, build_s: float, explain: bool) -> None:
    from django.db import connection

    from retrieval import embedding
    from retrieval.models import IP
    from retrieval.selectors import search_assets

    rng = random.Random(7)
    ip = IP.objects.get(slug="bench-ip")
    topics = Topics(random.Random(20261127))  # the same centres as the data
    vectors = {" ".join(rng.sample(WORDS, 3)): topics.vector(rows + 1 + q) for q in range(queries)}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM retrieval_asset a JOIN retrieval_rights r ON r.asset_id = a.id
               WHERE (r.valid_from IS NULL OR r.valid_from <= %s)
                 AND (r.valid_until IS NULL OR r.valid_until >= %s)
                 AND (r.worldwide OR r.territories @> ARRAY[%s]::varchar(2)[])
                 AND r.reference_use_allowed""",
            [ON, ON, TERRITORY],
        )
        matching = cursor.fetchone()[0]
    embedding.embedder_for = lambda _space: BenchEmbedder(vectors)
    progress(f"{matching:,} of {rows:,} assets pass the rights filter ({matching / rows:.0%})")

    def timed(fn):
        started = time.perf_counter()
        result = fn()
        return (time.perf_counter() - started) * 1000, result

    def search(text: str, mode: str):
        return search_assets(ip=ip, query=text, k=10, territory=TERRITORY, on_date=ON, mode=mode)

    texts = list(vectors)
    for text in texts[:10]:  # warm the caches
        search(text, "hybrid")
    if explain:
        explain_hybrid(ip, texts[0], vectors[texts[0]])
    hybrid_ms, vector_ms, exact_ms, recalls, short = [], [], [], [], 0
    for n, text in enumerate(texts, start=1):
        ms, hybrid_hits = timed(lambda text=text: search(text, "hybrid"))
        hybrid_ms.append(ms)
        ms, vector_hits = timed(lambda text=text: search(text, "vector"))
        vector_ms.append(ms)
        ms, exact_ids = timed(lambda text=text: exact_scan(space, vectors[text]))
        exact_ms.append(ms)
        found = {hit.asset.pk for hit in vector_hits}
        recalls.append(len(found & set(exact_ids)) / len(exact_ids))
        wanted = min(10, matching)
        short += (len(hybrid_hits) < wanted) + (len(vector_hits) < wanted)
        if n % 50 == 0:
            progress(f"  queries {n}/{len(texts)}")

    figures = {
        "rows": rows,
        "dimensions": DIMENSIONS,
        "matching_rows": matching,
        "queries": len(texts),
        "build_s": round(build_s, 1),
        "p50_ms": pct(hybrid_ms, 50),
        "p95_ms": pct(hybrid_ms, 95),
        "vector_p50_ms": pct(vector_ms, 50),
        "vector_p95_ms": pct(vector_ms, 95),
        "recall_at_10": round(statistics.mean(recalls), 4),
        "exact_p50_ms": pct(exact_ms, 50),
        "exact_p95_ms": pct(exact_ms, 95),
        "short_results": short,
    }
    print(f"{'figure':<16} value")
    print(f"{'rows x dims':<16} {rows:,} x {DIMENSIONS} ({matching:,} pass the rights filter)")
    print(f"{'index build':<16} {figures['build_s']} s")
    print(f"{'hybrid top-10':<16} p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms")
    print(
        f"{'vector top-10':<16} p50 {figures['vector_p50_ms']} ms, "
        f"p95 {figures['vector_p95_ms']} ms"
    )
    print(f"{'exact scan':<16} p50 {figures['exact_p50_ms']} ms, p95 {figures['exact_p95_ms']} ms")
    print(f"{'recall@10':<16} {figures['recall_at_10']} (vector top-10 vs exact scan)")
    print(f"{'short results':<16} {short} (of {2 * len(texts)} filtered searches)")
    print(f"{'load average':<16} {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end")
    print(json.dumps(figures))


def explain_hybrid(ip, text: str, vector: list[float]) -> None:
    """Print EXPLAIN ANALYZE of the exact statement search_assets runs."""
    from django.db import connection, transaction

    statements: list[tuple[str, list]] = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        search_assets_for_bench(ip, text)
    sql, params = next((s, p) for s, p in statements if "vector_hits" in s)
    settings_sql, search_sql = sql.split(";", 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(settings_sql, params[:1])
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + search_sql, params[1:])
        print("\n".join(row[0] for row in cursor.fetchall()), file=sys.stderr)
    _ = vector


def search_assets_for_bench(ip, text: str):
    from retrieval.selectors import search_assets

    return search_assets(ip=ip, query=text, k=10, territory=TERRITORY, on_date=ON)


def exact_scan(space, vector: list[float]) -> list[int]:
    """Top-10 by brute force over the same filter (index scans off)."""
    from django.db import connection, transaction

    literal = "[" + ",".join(map(str, vector)) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(
            f"""SELECT e.asset_id FROM retrieval_assetembedding e
                JOIN retrieval_asset a ON a.id = e.asset_id
                JOIN retrieval_rights r ON r.asset_id = a.id
                WHERE e.space_id = {space.pk} AND a.ip_id = (SELECT id FROM retrieval_ip LIMIT 1)
                  AND a.is_current
                  AND (r.valid_from IS NULL OR r.valid_from <= %s)
                  AND (r.valid_until IS NULL OR r.valid_until >= %s)
                  AND (r.worldwide OR r.territories @> ARRAY[%s]::varchar(2)[])
                  AND r.reference_use_allowed
                ORDER BY (e.vector::vector({DIMENSIONS})) <=> %s::vector({DIMENSIONS})
                LIMIT 10""",
            [ON, ON, TERRITORY, literal],
        )
        return [row[0] for row in cursor.fetchall()]


def pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 2)


if __name__ == "__main__":
    main()
