"""Find anything: the list's free-text search, and similar suggestions.

The search document
-------------------
Every suggestion keeps ``search_document``: what people search for, as space-separated
tokens, made of its title and main content (as plain text), its reference
(市八届人大一次会议第120号建议), the lead and co-signing deputies, the lead and co-handling
units (full and short names) and whatever the apps above add through :func:`register_source`
(replies: the document numbers of signed letters).

Tokens: every CJK character on its own (unigram) and every two adjacent ones (bigram), and
every run of other letters and digits as one lowercase word, after NFKC (full-width digits and
letters become ASCII). Each token once, sorted. ``关于5G基站`` gives 关 于 基 站 关于 基站 5g.

Matching
--------
A query is split on spaces and every term must match. A term matches when all its tokens are
in the document: one CJK character its unigram, a longer run all of its bigrams (adjacency is
approximated: 工信建 finds 工信 … 信建 anywhere), digits as a whole word, other words as a
prefix. A term that is a number as shown (120, 第120号, 120号) also finds that number.

- PostgreSQL: the column is a tsvector of exactly these tokens (suggestions.fields: no
  text-search parser, so no dependence on the database's locale, and nothing to re-parse), with
  a GIN index (migration 0006); the query is one tsquery (``'基站' & '5g':*``), so a term of
  any length is an index lookup. Tokens in nearly every suggestion (建议, 号: the reference)
  select nothing and are left out of the query, which keeps PostgreSQL on the index.
- Other databases (SQLite, the embedded default): each token is looked for as `` token ``
  inside the document (LIKE) — the same results, without an index.

Keeping it current
------------------
``Suggestion.save()`` rewrites the document when its own fields changed (title, content,
number, session, lead deputy, lead unit) or a move flagged it (assign changes co-handling
units); changes of co-signers (m2m), of a deputy's or a unit's name, and of the sources
registered here call :func:`refresh_search`. Code that writes around ``save()`` (bulk_create,
``QuerySet.update``, COPY) calls ``refresh_search(ids)`` afterwards, or
``manage.py refresh_search`` rebuilds every document. Writing many suggestions in one
transaction (an import), :func:`refreshed_together` makes their documents once, at the end.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import connections, transaction
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from core import rules
from core.sanitize import html_to_text

from . import workflow
from .models import CoHandling, CongressSession, Deputy, HandlingUnit, Suggestion

# CJK ideographs (unified, extension A, compatibility, extensions B–H) and 々 〇.
CJK = "\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(rf"([{CJK}]+)|((?:(?![{CJK}])[^\W_])+)")
_NUMBER = re.compile(r"第?0*(\d{1,9})(?:号(?:建议)?)?")
MAX_WORD = 40
# Content beyond this many characters is not searched: keeps a document far below the 1 MB a
# tsvector may hold (≈ 500 kB at most), whatever is pasted or imported.
MAX_TEXT = 50_000
INDEX_NAME = "suggestion_search_gin"  # created by migration 0006 on PostgreSQL only
UBIQUITOUS = 0.99  # a token in this share of the suggestions (or more) selects nothing


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def tokens(text: str) -> set[str]:
    """The document tokens of ``text``: CJK unigrams and bigrams, other words."""
    found: set[str] = set()
    for run, word in _RUNS.findall(normalize(text)):
        if run:
            found.update(run)
            found.update(run[i:i + 2] for i in range(len(run) - 1))
        else:
            found.add(word[:MAX_WORD])
    return found


def build_document(parts: Iterable[str]) -> str:
    """The tokens of all ``parts``, each once, with a space at both ends, so that
    `` token `` always matches (and the string is valid tsvector input)."""
    found: set[str] = set()
    for part in parts:
        if part:
            found |= tokens(part)
    return f" {' '.join(sorted(found))} " if found else ""


def _document(*, reference: str, title: str, content: str, names: Iterable[str]) -> str:
    return build_document([title, html_to_text(content)[:MAX_TEXT], reference, *names])


# --- Sources from the apps above (replies' document numbers) -------------------------------

Source = Callable[[list[int]], Iterable[tuple[int, str]]]
_SOURCES: list[Source] = []


def register_source(source: Source) -> Source:
    """``source(suggestion_ids)`` yields (suggestion id, text) pairs to be found by; the app
    that registers it calls ``refresh_search`` when that text changes."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def _related_names(ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    through = Suggestion.co_deputies.through
    for pk, name in through.objects.filter(suggestion_id__in=ids).values_list(
        "suggestion_id", "deputy__name"
    ):
        names[pk].append(name)
    for pk, name, short in CoHandling.objects.filter(suggestion_id__in=ids).values_list(
        "suggestion_id", "unit__name", "unit__short_name"
    ):
        names[pk] += [name, short]
    for source in _SOURCES:
        for pk, text in source(ids):
            names[pk].append(text)
    return names


def document_of(suggestion: Suggestion) -> str:
    """The document of ``suggestion`` as it is in memory (Suggestion.save)."""
    names = []
    if suggestion.lead_deputy_id:
        names.append(suggestion.lead_deputy.name)
    if suggestion.lead_unit_id:
        names += [suggestion.lead_unit.name, suggestion.lead_unit.short_name]
    if not suggestion._state.adding and suggestion.pk is not None:
        names += _related_names([suggestion.pk]).get(suggestion.pk, [])
    return _document(
        reference=str(suggestion) if suggestion.session_id else "", title=suggestion.title,
        content=suggestion.content, names=names,
    )


def refresh_search(ids: Iterable[int], *, batch_size: int = 500) -> int:
    """Make the search document of the suggestions ``ids`` again from the database (a few
    queries per batch, whatever its size) and store those that changed; returns how many were
    made."""
    ids = sorted({int(pk) for pk in ids if pk is not None})
    written = 0
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        names = _related_names(batch)
        rows = Suggestion.objects.filter(pk__in=batch).values_list(
            "pk", "session__name", "number", "title", "content", "lead_deputy__name",
            "lead_unit__name", "lead_unit__short_name",
        )
        documents = [
            (pk, _document(
                reference=f"{session}第{number}号建议", title=title, content=content,
                names=[deputy, unit, short, *names.get(pk, [])],
            ))
            for pk, session, number, title, content, deputy, unit, short in rows
        ]
        _write(documents)
        written += len(documents)
    return written


def _write(documents: list[tuple[int, str]]) -> None:
    """One UPDATE … FROM (VALUES …) on PostgreSQL (bulk_update's CASE WHEN costs rows² per
    batch), the text cast to the column's tsvector; bulk_update elsewhere."""
    if not documents:
        return
    connection = connections[Suggestion.objects.db]
    if connection.vendor != "postgresql":
        Suggestion.objects.bulk_update(
            [Suggestion(pk=pk, search_document=doc) for pk, doc in documents], ["search_document"]
        )
        return
    table = Suggestion._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(documents))
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS s SET search_document = v.document::tsvector '  # noqa: S608
            f"FROM (VALUES {values}) AS v(id, document) WHERE s.id = v.id "
            # An unchanged document is not written again (no dead row, no index entry).
            "AND s.search_document IS DISTINCT FROM v.document::tsvector",
            [value for pair in documents for value in pair],
        )


def refresh_all(*, batch_size: int = 1000, progress: Callable[[int], None] | None = None) -> int:
    """Rewrite every document, one transaction per batch (the backfill migration, and
    ``manage.py refresh_search``)."""
    last, written = 0, 0
    while True:
        batch = list(Suggestion.objects.filter(pk__gt=last).order_by("pk")
                     .values_list("pk", flat=True)[:batch_size])
        if not batch:
            return written
        with transaction.atomic():
            written += refresh_search(batch, batch_size=batch_size)
        last = batch[-1]
        if progress:
            progress(written)


# --- Keeping it current ----------------------------------------------------------------------

_together = threading.local()


@contextmanager
def refreshed_together() -> Iterator[None]:
    """Inside, documents that go stale (a save, co-signers added) are made once at the end by
    :func:`refresh_search` (a few queries per 500 suggestions) instead of one by one (about
    four queries each): for writing many suggestions in one transaction, such as an import.
    Use it inside that transaction: when the block raises, nothing is refreshed."""
    if getattr(_together, "ids", None) is not None:
        yield  # nested: the outer block refreshes
        return
    _together.ids = set()
    try:
        yield
        ids = _together.ids
    finally:
        _together.ids = None
    refresh_search(ids)


def refresh_later(ids: Iterable[int]) -> bool:
    """Inside :func:`refreshed_together`, note ``ids`` for its refresh and return True."""
    pending = getattr(_together, "ids", None)
    if pending is None:
        return False
    pending.update(ids)
    return True


def refresh_soon(ids: Iterable[int]) -> None:
    """Refresh the documents of ``ids`` now, or at the end of :func:`refreshed_together`."""
    ids = list(ids)
    if not refresh_later(ids):
        refresh_search(ids)


def _flag_stale(suggestion: Suggestion, user, params: dict) -> None:
    """Assigning changes the co-handling units: the save after the move rewrites the document."""
    suggestion._search_stale = True


workflow.MACHINE.extend("assign", effects=[_flag_stale])
workflow.MACHINE.extend("reassign", effects=[_flag_stale])
# The document names the lead deputy: loaded with the locked row, not by one more query.
workflow.MACHINE.load_related("lead_deputy")
rules.batch_with(refreshed_together)


@receiver(m2m_changed, sender=Suggestion.co_deputies.through, dispatch_uid="search_co_deputies")
def _co_deputies_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if reverse and action == "pre_clear":
        instance._search_cleared = list(instance.cosigned_suggestions.values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        refresh_soon([instance.pk])
    elif action == "post_clear":
        refresh_soon(getattr(instance, "_search_cleared", []))
    else:
        refresh_soon(pk_set or [])


def _remember_names(fields: tuple[str, ...]):
    def before(sender, instance, raw=False, **kwargs):
        instance._search_names = None
        if instance.pk is not None and not raw:
            instance._search_names = sender.objects.filter(pk=instance.pk).values_list(*fields).first()
    return before


pre_save.connect(_remember_names(("name",)), sender=Deputy, weak=False, dispatch_uid="search_deputy")
pre_save.connect(_remember_names(("name", "short_name")), sender=HandlingUnit, weak=False,
                 dispatch_uid="search_unit")


@receiver(post_save, sender=Deputy, dispatch_uid="search_deputy_renamed")
def _deputy_renamed(sender, instance, created, raw=False, **kwargs):
    if created or raw or getattr(instance, "_search_names", None) in (None, (instance.name,)):
        return
    cosigned = Suggestion.co_deputies.through.objects.filter(deputy=instance)
    ids = Suggestion.objects.filter(
        Q(lead_deputy=instance) | Q(pk__in=cosigned.values("suggestion_id"))
    ).values_list("pk", flat=True)
    refresh_soon(list(ids))


@receiver(post_save, sender=HandlingUnit, dispatch_uid="search_unit_renamed")
def _unit_renamed(sender, instance, created, raw=False, **kwargs):
    names = (instance.name, instance.short_name)
    if created or raw or getattr(instance, "_search_names", None) in (None, names):
        return
    co = CoHandling.objects.filter(unit=instance)
    ids = Suggestion.objects.filter(
        Q(lead_unit=instance) | Q(pk__in=co.values("suggestion_id"))
    ).values_list("pk", flat=True)
    refresh_soon(list(ids))


# --- The query -------------------------------------------------------------------------------

class Term:
    """One space-separated part of a query: the tokens it needs, and the number it may be."""

    def __init__(self, text: str):
        self.text = text
        match = _NUMBER.fullmatch(text)
        self.number = int(match.group(1)) if match else None
        exact: list[str] = []
        prefixes: list[str] = []
        for run, word in _RUNS.findall(text):
            if len(run) == 1:
                exact.append(run)
            elif run:
                exact += [run[i:i + 2] for i in range(len(run) - 1)]
            elif word.isdigit():
                exact.append(word[:MAX_WORD])
            else:
                prefixes.append(word[:MAX_WORD])
        self.exact = list(dict.fromkeys(exact))
        self.prefixes = list(dict.fromkeys(prefixes))

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)


def parse(query: str) -> list[Term]:
    return [term for term in map(Term, normalize(query).split()) if term]


class _Matches(Func):
    """``search_document @@ query`` on PostgreSQL, answered from the GIN index.

    The query is cast, not parsed (``to_tsquery`` would run the text-search parser): its
    operands are our tokens, as in the document. It is given as a sub-select, which the planner
    cannot look into: it then always reads the GIN index (a bitmap, cost proportional to the
    matches) instead of choosing, for a common term, a scan that de-TOASTs and tests every
    row's document (0.5–1 s at 100,000 rows, where the bitmap takes 50–250 ms)."""

    output_field = BooleanField()

    def __init__(self, tsquery: str):
        super().__init__(F("search_document"), Value(tsquery))

    def as_sql(self, compiler, connection, **extra):
        document, query = self.get_source_expressions()
        document_sql, document_params = compiler.compile(document)
        query_sql, query_params = compiler.compile(query)
        sql = f"{document_sql} @@ (SELECT CAST({query_sql} AS tsquery))"
        return sql, (*document_params, *query_params)


def _tsquery(exact: Iterable[str], prefixes: Iterable[str] = (), op: str = " & ") -> str:
    # Tokens are letters, digits and CJK characters only: quoting them is enough.
    return op.join([*(f"'{t}'" for t in exact), *(f"'{t}':*" for t in prefixes)])


def _contains(exact: Iterable[str], prefixes: Iterable[str] = ()) -> Q:
    condition = Q()
    for token in exact:
        condition &= Q(search_document__contains=f" {token} ")
    for token in prefixes:
        condition &= Q(search_document__contains=f" {token}")
    return condition


def _is_postgres(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def text_condition(queryset: QuerySet, exact: Iterable[str], prefixes: Iterable[str] = (),
                   *, ubiquitous: frozenset[str] = frozenset()) -> Q | None:
    """The suggestions holding all ``exact`` tokens and a word starting with each of
    ``prefixes``; None when nothing is left to ask (only ubiquitous tokens)."""
    exact = [token for token in exact if token not in ubiquitous]
    prefixes = list(prefixes)
    if not exact and not prefixes:
        return None
    if _is_postgres(queryset):
        return Q(_Matches(_tsquery(exact, prefixes)))
    return _contains(exact, prefixes)


def search(queryset: QuerySet, query: str) -> tuple[QuerySet, list[int]]:
    """``queryset`` narrowed to what ``query`` finds, and the numbers the query names (the
    caller may put those suggestions first)."""
    terms = parse(query)
    if not terms:
        return queryset, []
    ubiquitous = frozenset(
        token for token, share in common_tokens(queryset.db).items() if share >= UBIQUITOUS
    ) if _is_postgres(queryset) else frozenset()
    plain = [t for t in terms if t.number is None]
    conditions = [text_condition(
        queryset, itertools.chain.from_iterable(t.exact for t in plain),
        itertools.chain.from_iterable(t.prefixes for t in plain), ubiquitous=ubiquitous,
    )] if plain else []
    numbers = []
    for term in terms:
        if term.number is not None:
            numbers.append(term.number)
            text = text_condition(queryset, term.exact, term.prefixes, ubiquitous=ubiquitous)
            conditions.append(None if text is None else Q(number=term.number) | text)
    return queryset.filter(*(c for c in conditions if c is not None)), numbers


# --- Similar suggestions ---------------------------------------------------------------------

# Bigrams of the way every suggestion is written: they make unrelated ones look alike.
STOP_TOKENS = frozenset(
    "关于 建议 的建 议的 进一 一步 加强 加快 推进 推动 持续 切实 做好 完善 优化 支持 规范 "
    "我市 全市 本市 问题 工作 有关 相关 进行 提高 提升 进一步 的问 题的 和的 的工 作的 "
    "目前 当前 存在 主要 一是 二是 三是 四是 是一 是二 建设 发展 管理 服务 方面 群众".split()
)
COMMON_SHARE = 0.05  # in more than 5 % of the suggestions (PostgreSQL's statistics): uninformative
MAX_PROBES = 6  # at 100,000 rows ~30 ms; more probes cost more and found no better (bench)
MAX_CANDIDATES = 150
MIN_SCORE = 0.05


def features(text: str) -> Counter:
    """What similarity compares: CJK bigrams and other words (not bare numbers), counted."""
    found: Counter = Counter()
    for run, word in _RUNS.findall(normalize(text)):
        if run:
            found.update(run[i:i + 2] for i in range(len(run) - 1))
        elif not word.isdigit() and len(word) > 1:
            found[word[:MAX_WORD]] += 1
    return found


def common_tokens(using: str = "default") -> dict[str, float]:
    """The most common tokens and the share of suggestions holding each, from PostgreSQL's
    statistics of the column (ANALYZE, autovacuum); empty elsewhere or before any ANALYZE."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = %s AND attname = %s "
            "AND most_common_elems IS NOT NULL",
            [Suggestion._meta.db_table, "search_document"],
        )
        row = cursor.fetchone()
    if not row:
        return {}
    return dict(zip(row[0], row[1], strict=False))


def _same_or_earlier(session) -> list[int]:
    if not isinstance(session, CongressSession):
        session = CongressSession.objects.filter(pk=session).first()
        if session is None:
            return []
    key = (session.year, session.term, session.meeting)
    return [pk for pk, *order in CongressSession.objects.values_list("pk", "year", "term", "meeting")
            if tuple(order) <= key]


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _at_least(probes: list[str], m: int) -> str:
    if m <= 1:
        return _tsquery(probes, op=" | ")
    return " | ".join(f"({_tsquery(group)})" for group in itertools.combinations(probes, m))


def _candidates(queryset: QuerySet, probes: list[str]) -> list[int]:
    """Ids of up to MAX_CANDIDATES suggestions sharing the most probes (index lookups): any
    probe while that is few enough (a small table, rare probes), else at least 2, 3…"""
    if not _is_postgres(queryset):
        any_probe = Q()
        for probe in probes:
            any_probe |= Q(search_document__contains=f" {probe} ")
        return list(queryset.filter(any_probe).order_by("-pk").values_list("pk", flat=True)[:2000])
    need = 1
    found: list[int] = []
    while need <= len(probes):
        group = probes if need <= 2 else probes[:8]
        if need > len(group):
            break
        ids = list(queryset.filter(_Matches(_at_least(group, need))).order_by()
                   .values_list("pk", flat=True)[:MAX_CANDIDATES + 1])
        if len(ids) <= MAX_CANDIDATES:
            return ids or found
        found = ids[:MAX_CANDIDATES]
        need += 1
    return found


def similar_to(title: str, content: str = "", session=None, exclude_pk=None, limit: int = 5,
               *, queryset: QuerySet | None = None) -> list[Suggestion]:
    """Earlier suggestions (of ``session`` and the sessions before it, when given) like this
    title and content, most similar first; each has ``.similarity`` (0–1).

    Score: Jaccard similarity of the informative bigram sets of title and content, averaged with
    that of the titles (the title alone when there is no content). Candidates come from the
    search index: suggestions holding any of the query's six rarest bigrams, or at least two,
    three… while there are more than MAX_CANDIDATES, so the cost does not grow with the table
    (about 30 ms at 100,000).
    """
    queryset = Suggestion.objects.all() if queryset is None else queryset
    if session is not None:
        queryset = queryset.filter(session_id__in=_same_or_earlier(session))
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    title_counts = features(title)
    text_counts = title_counts + features(html_to_text(content or ""))
    common = common_tokens(queryset.db)

    def informative(token: str) -> bool:
        return token not in STOP_TOKENS and common.get(token, 0.0) <= COMMON_SHARE

    wanted = {t for t in text_counts if informative(t)}
    if not wanted:
        return []
    # Probes: the rarest tokens (PostgreSQL's statistics), the most frequent here first, the
    # title's counting double.
    probes = sorted(wanted, key=lambda t: (
        common.get(t, 0.0), -(text_counts[t] + (2 if t in title_counts else 0)), t,
    ))[:MAX_PROBES]
    ids = _candidates(queryset, probes)
    if not ids:
        return []
    title_set = {t for t in title_counts if informative(t)}
    has_content = bool(wanted - title_set)
    scored = []
    for pk, other_title, other_content in Suggestion.objects.filter(pk__in=ids).values_list(
        "pk", "title", "content"
    ):
        other_title_set = {t for t in features(other_title) if informative(t)}
        other_text = other_title_set | {
            t for t in features(html_to_text(other_content)) if informative(t)
        }
        title_score = _jaccard(title_set, other_title_set)
        score = (title_score + _jaccard(wanted, other_text)) / 2 if has_content else title_score
        if score >= MIN_SCORE:
            scored.append((score, pk))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    return with_similarity([(pk, round(score, 3)) for score, pk in scored[:limit]])


def with_similarity(scores: list[tuple[int, float]]) -> list[Suggestion]:
    """The suggestions of (pk, similarity) pairs, in that order, each with ``.similarity``
    (one that no longer exists is left out)."""
    found = Suggestion.objects.select_related("session", "lead_deputy", "lead_unit").in_bulk(
        [pk for pk, _score in scores]
    )
    result = []
    for pk, score in scores:
        if pk in found:
            found[pk].similarity = score
            result.append(found[pk])
    return result
