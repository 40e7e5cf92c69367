"""Reads for the catalog: rights gate, hybrid search, pages' querysets."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from retrieval import embedding
from retrieval.models import IP, Asset, Character, EmbeddingSpace
from studio.roles import Role
from teams.selectors import ip_ids_for

REFERENCE_USE = "reference"


@dataclass(frozen=True)
class AssetHit:
    """One search result and why it matched.

    score: reciprocal-rank fusion of the two lists, normalised to 0..1 — 1.0 means ranked first
    by both the vector and the full-text list, about 0.5 means first in one list only, and it
    falls off as 1/(RRF_K + rank). It orders results; it does not measure relevance on its own.
    distance: cosine distance of the vector match (0 identical, 1 unrelated, 2 opposite); None
    when the asset came from the full-text list only. vector_rank/text_rank: 1-based positions
    in each list, None when absent from it. A weak hit is one with a high distance and no text
    rank.
    """

    asset: Asset
    score: float
    vector_rank: int | None
    text_rank: int | None
    distance: float | None

    @property
    def similarity(self) -> float | None:
        return None if self.distance is None else 1.0 - self.distance


def rights_q(*, territory: str | None, on_date: date, use: str | None = REFERENCE_USE) -> Q:
    """Return the rights filter on Asset as a Q; territory None means cleared worldwide."""
    q = Q(rights__isnull=False)
    q &= Q(rights__valid_from__isnull=True) | Q(rights__valid_from__lte=on_date)
    q &= Q(rights__valid_until__isnull=True) | Q(rights__valid_until__gte=on_date)
    if territory is None:
        q &= Q(rights__worldwide=True)
    else:
        q &= Q(rights__worldwide=True) | Q(rights__territories__contains=[territory.upper()])
    if use == REFERENCE_USE:
        q &= Q(rights__reference_use_allowed=True)
    return q


def _rights_sql(*, territory: str | None, on_date: date, use: str | None) -> tuple[str, list]:
    """Return the same filter as rights_q as SQL over aliases a (asset) and r (rights)."""
    sql = [
        "(r.valid_from IS NULL OR r.valid_from <= %s)",
        "(r.valid_until IS NULL OR r.valid_until >= %s)",
    ]
    params: list = [on_date, on_date]
    if territory is None:
        sql.append("r.worldwide")
    else:
        sql.append("(r.worldwide OR r.territories @> ARRAY[%s]::varchar(2)[])")
        params.append(territory.upper())
    if use == REFERENCE_USE:
        sql.append("r.reference_use_allowed")
    return " AND ".join(sql), params


def rights_cleared_assets(
    *, ip: IP, territory: str, on_date: date, use: str = REFERENCE_USE
) -> QuerySet[Asset]:
    """Return the IP's current assets cleared for `use` in `territory` on `on_date`."""
    return (
        Asset.objects.filter(ip=ip, is_current=True)
        .filter(rights_q(territory=territory, on_date=on_date, use=use))
        .select_related("rights")
    )


def rights_block_reason(
    asset: Asset, *, territory: str | None, on_date: date, use: str | None = REFERENCE_USE
) -> str | None:
    """Say why an asset may not be used (None when it may); mirrors rights_q."""
    rights = getattr(asset, "rights", None)
    if rights is None:
        return "no rights recorded"
    if rights.valid_until and rights.valid_until < on_date:
        return f"licence expired {rights.valid_until.isoformat()}"
    if rights.valid_from and rights.valid_from > on_date:
        return f"licence starts {rights.valid_from.isoformat()}"
    if not rights.worldwide:
        licensed = ", ".join(rights.territories)
        if territory is None:
            return f"not cleared worldwide (licensed in {licensed})"
        if territory.upper() not in rights.territories:
            return f"not licensed in {territory.upper()} (licensed in {licensed})"
    if use == REFERENCE_USE and not rights.reference_use_allowed:
        return "reference use for generation not permitted"
    return None


def reference_problem(
    asset_ids: Sequence[int], *, ip_id: int, territory: str, on_date: date
) -> str:
    """Say why these assets cannot all be references for a brief on `ip_id`, or return ""."""
    assets = list(Asset.objects.filter(pk__in=asset_ids).select_related("rights"))
    if len(assets) != len(set(asset_ids)):
        return "A chosen reference no longer exists."
    for asset in assets:
        if asset.ip_id != ip_id:
            return f"“{asset.title}” belongs to another IP."
        reason = rights_block_reason(asset, territory=territory, on_date=on_date, use=REFERENCE_USE)
        if reason:
            return f"“{asset.title}” is not cleared: {reason}"
    return ""


def search_assets(
    *,
    ip: IP,
    query: str,
    k: int = 10,
    territory: str | None = None,
    on_date: date | None = None,
    use: str | None = REFERENCE_USE,
    kinds: Sequence[str] | None = None,
    characters: Sequence[int] | None = None,
    mode: str = "hybrid",
) -> list[AssetHit]:
    """Rank the IP's current, rights-cleared assets for a query (vector + full text, fused).

    mode "vector" skips the full-text list (benchmarks and diagnostics); "hybrid" is the default.

    Both candidate lists are filtered by rights inside their SQL; territory None means the
    asset must be cleared worldwide; on_date defaults to today; use "reference" also requires
    reference-for-generation permission (None skips that check, for browsing).
    """
    query = query.strip()
    if not query or k <= 0:
        return []
    space = embedding.active_space()
    filters, params = _filters_sql(
        ip=ip,
        territory=territory,
        on_date=on_date or timezone.localdate(),
        use=use,
        kinds=kinds,
        characters=characters,
    )
    # Fusion needs a deeper candidate list from each side than the k it returns.
    pool = k if mode == "vector" else max(k, settings.RETRIEVAL_CANDIDATES)
    vector = None
    if space is not None and mode in ("hybrid", "vector"):
        [vector] = embedding.embedder_for(space).embed([query], task="query")
    rows = _hybrid_rows(
        space=space,
        vector=vector,
        text=query,
        filters=filters,
        params=params,
        k=k,
        pool=pool,
        use_text=mode != "vector",
    )
    best = 2.0 / (settings.RETRIEVAL_RRF_K + 1)
    hits = []
    for asset, vector_rank, text_rank, distance, score in rows:
        asset.ip = ip
        hits.append(
            AssetHit(
                asset=asset,
                score=round(score / best, 4),
                vector_rank=vector_rank,
                text_rank=text_rank,
                distance=distance,
            )
        )
    return hits


def _filters_sql(
    *,
    ip: IP,
    territory: str | None,
    on_date: date,
    use: str | None,
    kinds: Sequence[str] | None,
    characters: Sequence[int] | None,
) -> tuple[str, list]:
    rights_sql, params = _rights_sql(territory=territory, on_date=on_date, use=use)
    sql = ["a.ip_id = %s", "a.is_current", rights_sql]
    params = [ip.pk, *params]
    if kinds:
        sql.append("a.kind = ANY(%s)")
        params.append(list(kinds))
    if characters:
        sql.append(
            "EXISTS (SELECT 1 FROM retrieval_asset_characters ac "
            "WHERE ac.asset_id = a.id AND ac.character_id = ANY(%s))"
        )
        params.append([int(c) for c in characters])
    return " AND ".join(sql), params


def _hybrid_rows(
    *,
    space: EmbeddingSpace | None,
    vector: list[float] | None,
    text: str,
    filters: str,
    params: list,
    k: int,
    pool: int,
    use_text: bool = True,
) -> list[tuple[Asset, int | None, int | None, float | None, float]]:
    """Run the fused query: (asset, vector rank, text rank, distance, RRF score) rows.

    The vector list reads the space's partial HNSW index over half-precision vectors (same
    expression and predicate as the index, so the planner can use it) with iterative scanning,
    so a selective rights filter still yields `pool` rows when that many match; it then ranks
    those candidates by their full-precision distance. The text list uses the GIN index.
    """
    rrf_k = settings.RETRIEVAL_RRF_K
    parts, all_params = [], []
    if space is not None and vector is not None:
        dims, space_id = int(space.dimensions), int(space.pk)
        literal = _vector_literal(vector)
        parts.append(
            f"""vector_hits AS (
                SELECT e.asset_id, (e.vector::vector({dims})) <=> %s::vector({dims}) AS distance
                FROM retrieval_assetembedding e
                JOIN retrieval_asset a ON a.id = e.asset_id
                JOIN retrieval_rights r ON r.asset_id = a.id
                WHERE e.space_id = {space_id} AND {filters}
                ORDER BY (e.vector::halfvec({dims})) <=> %s::halfvec({dims}) LIMIT %s
            ), vector_ranked AS (
                SELECT asset_id, distance,
                       row_number() OVER (ORDER BY distance, asset_id) AS rank
                FROM vector_hits
            )"""
        )
        all_params += [literal, *params, literal, pool]
    else:
        parts.append(
            "vector_ranked AS (SELECT NULL::bigint AS asset_id, NULL::float AS distance, "
            "NULL::bigint AS rank WHERE false)"
        )
    if use_text:
        text_sql, text_params = _text_ranked_sql(
            text=text, filters=filters, params=params, pool=pool
        )
        parts.append(text_sql)
        all_params += text_params
    else:
        parts.append(
            "text_ranked AS (SELECT NULL::bigint AS asset_id, NULL::bigint AS rank WHERE false)"
        )
    fields = [f for f in Asset._meta.concrete_fields if f.attname != "search_document"]
    columns = ", ".join(f"a.{connection.ops.quote_name(f.column)}" for f in fields)
    sql = f"""
        WITH {", ".join(parts)}, fused AS (
            SELECT coalesce(v.asset_id, t.asset_id) AS asset_id, v.rank AS vector_rank,
                   t.rank AS text_rank, v.distance,
                   coalesce(1.0 / ({rrf_k} + v.rank), 0) + coalesce(1.0 / ({rrf_k} + t.rank), 0)
                       AS score
            FROM vector_ranked v FULL OUTER JOIN text_ranked t ON t.asset_id = v.asset_id
            ORDER BY score DESC, v.rank NULLS LAST, t.rank NULLS LAST
            LIMIT %s
        )
        SELECT f.vector_rank, f.text_rank, f.distance, f.score, {columns}
        FROM fused f JOIN retrieval_asset a ON a.id = f.asset_id
        ORDER BY f.score DESC, f.vector_rank NULLS LAST, f.text_rank NULLS LAST
    """
    all_params.append(k)
    ef_search = max(settings.RETRIEVAL_EF_SEARCH, pool)
    # One round trip: the HNSW settings and the search travel as one simple-query message,
    # which Postgres runs as one transaction, so set_config(..., is_local) covers the search.
    # (Django's default client-side binding cursors allow several statements per execute.)
    with connection.cursor() as cursor:
        cursor.execute(_HNSW_SETTINGS + ";" + sql, [str(ef_search), *all_params])
        cursor.nextset()
        return [
            (
                _asset_from_row(fields, row[4:]),
                row[0],
                row[1],
                None if row[2] is None else float(row[2]),
                float(row[3]),
            )
            for row in cursor.fetchall()
        ]


def _text_ranked_sql(*, text: str, filters: str, params: list, pool: int) -> tuple[str, list]:
    """Return the full-text list's CTEs (ending in text_ranked) and their parameters.

    The list ranks every cleared asset that matches any query word. When the query also has
    common words (see RETRIEVAL_COMMON_WORD_SHARE) and the assets matching its distinctive words
    fill the list on their own, only those are ranked: scoring every asset that merely says
    "night" cost more than the rest of the search together. When they do not fill it (a
    selective rights filter, a vague query) every match is ranked, as before, starting from
    the cleared assets (text_cleared, read only then, each asset by its key) rather than from
    every asset that shares a word with the query: at the 0.5% filter of bench/retrieval.py that
    took the statement from 30 to 14 ms of server time.
    """
    query = _or_query(text)
    rare, common = _split_common_words(text)
    rank = "ts_rank_cd(a.search_document, q)"
    if not rare or not common:
        sql = f"""text_hits AS (
                SELECT a.id AS asset_id, {rank} AS relevance
                FROM retrieval_asset a
                JOIN retrieval_rights r ON r.asset_id = a.id,
                websearch_to_tsquery('english', %s) q
                WHERE a.search_document @@ q AND {filters}
                ORDER BY relevance DESC, a.id LIMIT %s
            ), text_ranked AS (
                SELECT asset_id, row_number() OVER (ORDER BY relevance DESC, asset_id) AS rank
                FROM text_hits
            )"""
        return sql, [query, *params, pool]
    rare_query = " | ".join(_quoted_lexeme(word) for word in rare)
    sql = f"""text_distinctive AS (
                SELECT a.id AS asset_id, {rank} AS relevance
                FROM retrieval_asset a
                JOIN retrieval_rights r ON r.asset_id = a.id,
                websearch_to_tsquery('english', %s) q
                WHERE a.search_document @@ %s::tsquery AND a.search_document @@ q AND {filters}
                ORDER BY relevance DESC, a.id LIMIT %s
            ), text_cleared AS MATERIALIZED (
                SELECT a.id AS asset_id, a.search_document
                FROM retrieval_rights r
                CROSS JOIN LATERAL (
                    SELECT * FROM retrieval_asset a WHERE a.id = r.asset_id OFFSET 0
                ) a
                WHERE {filters}
            ), text_all AS (
                SELECT c.asset_id, ts_rank_cd(c.search_document, q) AS relevance
                FROM text_cleared c, websearch_to_tsquery('english', %s) q
                WHERE c.search_document @@ q
                ORDER BY relevance DESC, c.asset_id
                LIMIT CASE WHEN (SELECT count(*) FROM text_distinctive) < %s THEN %s ELSE 0 END
            ), text_hits AS (
                SELECT * FROM text_distinctive
                WHERE (SELECT count(*) FROM text_distinctive) >= %s
                UNION ALL SELECT * FROM text_all
            ), text_ranked AS (
                SELECT asset_id, row_number() OVER (ORDER BY relevance DESC, asset_id) AS rank
                FROM text_hits
            )"""
    return sql, [query, rare_query, *params, pool, *params, query, pool, pool, pool]


def _split_common_words(text: str) -> tuple[list[str], list[str]]:
    """Split the query's lexemes into (distinctive, common) by the planner's word statistics.

    Postgres keeps the most common lexemes of the search column and their share of rows
    (pg_stats, refreshed by ANALYZE); a lexeme not listed is rarer than every listed one.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT l.lexeme, coalesce(s.freqs[array_position(s.elems, l.lexeme)], 0)
               FROM unnest(tsvector_to_array(to_tsvector('english', %s))) AS l(lexeme)
               LEFT JOIN (
                   SELECT most_common_elems::text::text[] AS elems,
                          most_common_elem_freqs AS freqs
                   FROM pg_stats
                   WHERE schemaname = current_schema() AND tablename = 'retrieval_asset'
                     AND attname = 'search_document'
               ) s ON true""",
            [text],
        )
        shares = cursor.fetchall()
    cutoff = settings.RETRIEVAL_COMMON_WORD_SHARE
    return (
        [lexeme for lexeme, share in shares if share <= cutoff],
        [lexeme for lexeme, share in shares if share > cutoff],
    )


def _quoted_lexeme(lexeme: str) -> str:
    """Quote a lexeme for tsquery input (no further normalisation: it is already a lexeme)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _asset_from_row(fields: list, values: Sequence) -> Asset:
    """Build an Asset from raw column values, converting as the ORM would (JSON, arrays)."""
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return Asset.from_db(connection.alias, [f.attname for f in fields], converted)


# Enough HNSW candidates for the pool, and iterative scans so a selective rights filter still
# fills it (without them a filtered scan stops after ef_search candidates and comes back short).
_HNSW_SETTINGS = (
    "SELECT set_config('hnsw.ef_search', %s, true),"
    " set_config('hnsw.iterative_scan', 'strict_order', true),"
    " set_config('hnsw.max_scan_tuples', '100000', true)"
)


def _vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in vector) + "]"


def _or_query(text: str) -> str:
    """Match any of the query's words (websearch syntax), so long briefs still find assets."""
    words = [w for w in text.replace('"', " ").split() if w.strip("-")]
    return " or ".join(words)


def visible_ips(user, *roles: Role) -> QuerySet[IP]:
    """Return the IPs the user is on (in one of `roles`, or any role), through teams' gate."""
    return IP.objects.filter(pk__in=ip_ids_for(user, *roles))


def visible_assets(user, *roles: Role) -> QuerySet[Asset]:
    """Return assets (every version) of the IPs the user is on."""
    return Asset.objects.filter(ip__in=ip_ids_for(user, *roles))


def catalog_ips(user) -> QuerySet[IP]:
    """Return the user's IPs with their character and current-asset counts."""
    return visible_ips(user).annotate(
        character_count=Count("characters", distinct=True),
        asset_count=Count("assets", filter=Q(assets__is_current=True), distinct=True),
    )


def ip_assets(
    *, ip: IP, kinds: Sequence[str] | None = None, character: int | None = None
) -> QuerySet[Asset]:
    """Return the IP's current assets for the grid, with rights and characters loaded."""
    assets = (
        Asset.objects.filter(ip=ip, is_current=True)
        .select_related("rights")
        .prefetch_related("characters")
        .order_by("kind", "title")
    )
    if kinds:
        assets = assets.filter(kind__in=kinds)
    if character:
        assets = assets.filter(characters=character)
    return assets


def ip_characters(*, ip: IP) -> QuerySet[Character]:
    return ip.characters.annotate(
        asset_count=Count("assets", filter=Q(assets__is_current=True))
    ).order_by("name")


def asset_detail(*, pk: int, user) -> Asset:
    """Return one asset of the user's IPs with its rights, characters and lineage."""
    return (
        visible_assets(user)
        .select_related("ip", "rights", "created_by", "previous")
        .prefetch_related("characters")
        .get(pk=pk)
    )


def asset_versions(*, asset: Asset) -> QuerySet[Asset]:
    return (
        Asset.objects.filter(family=asset.family).select_related("created_by").order_by("-version")
    )
