"""What the gateway adds, measured side by side in one run against a fast fake OpenAI-compatible upstream
(benchmarks/_fake_openai_upstream.py) and with the bundled model served on ONNX Runtime GenAI.

1. A plain model, called directly vs through the gateway (alternately, one request at a time):
   time to first token and total, medians and their ratio, and the time added.
2. A policy at threshold 0 (the draft answers) and 1 (escalated): first token and total, with the
   draft's part as the gateway reports it.
3. 200 concurrent streaming requests through the gateway vs directly: errors, p50/p99 totals and the
   p99 added, and the gateway process's memory (RSS before and peak).
4. End to end with the bundled model (python -m advisor.serving) as the SLM of a threshold-0 policy,
   vs calling the serving process directly.

    .venv/bin/python benchmarks/bench_gateway.py [--requests 50] [--concurrent 200] [--tokens 64]
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _setup import ROOT, free_port, percentile, scratch_site, stopped_on_exit, wait_until_serving

MESSAGES = [{"role": "user", "content": "Name a colour."}]


def start(processes, command, env, url, what, timeout=120):
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True)
    processes.append(process)
    wait_until_serving(url, process, what, timeout=timeout)
    return process


def site_rows(env: dict, upstream: str, upstream2: str, served: str) -> str:
    """Catalogue entries, a user with an API token and the policies, in the gateway's database; the token."""
    script = f"""
from django.contrib.auth import get_user_model
from advisor.catalogue.models import LanguageModel, Provider
from advisor.hybrid.services import hybrid_policy_set
from advisor.tokens.services import token_create
def entry(slug, url, remote):
    p = Provider.objects.create(slug="p-" + slug, name=slug, kind="openai", base_url=url, hosted=False)
    return LanguageModel.objects.create(slug=slug, name=slug, provider=p, remote_name=remote, params_b=0.135, open_weights=True, quality=0.3)
fast, fast2, bundled = entry("fake-fast", "{upstream}", "fake"), entry("fake-llm", "{upstream2}", "fake"), entry("bundled-served", "{served}", "smollm2-135m-instruct")
user = get_user_model().objects.create_user("bench", password="bench-password")
hybrid_policy_set(owner=user, name="keep", slm=fast, llm=fast2, threshold=0.0)
hybrid_policy_set(owner=user, name="escalate", slm=fast, llm=fast2, threshold=1.0)
hybrid_policy_set(owner=user, name="bundled", slm=bundled, llm=fast2, threshold=0.0)
print(token_create(owner=user, name="bench")[1])
"""
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


async def one(client, url: str, model: str, token: str | None, max_tokens: int) -> dict:
    """One streamed request: first content token and total (ms), and the last chunk's `advisor`."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"model": model, "messages": MESSAGES, "max_tokens": max_tokens, "stream": True, "logprobs": True}
    began = time.perf_counter()
    first = None
    advisor = None
    async with client.stream("POST", url, json=body, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {(await response.aread())[:200]!r}")
        async for line in response.aiter_lines():
            if line == "data: [DONE]":  # the whole answer is in (the OpenAI client stops here too)
                break
            if not line.startswith("data: "):
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError(chunk["error"]["message"])
            if first is None and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                first = time.perf_counter()
            advisor = chunk.get("advisor") or advisor
    end = time.perf_counter()
    return {"ttft": (first - began) * 1000 if first else None, "total": (end - began) * 1000, "advisor": advisor}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


async def side_by_side(client, pairs, n: int, max_tokens: int):
    """Alternating requests of each (label, url, model, token); returns label → list of results."""
    results = {label: [] for label, *_ in pairs}
    for _ in range(n):
        for label, url, model, token in pairs:
            results[label].append(await one(client, url, model, token, max_tokens))
    return results


def row(label: str, results: list[dict], base: list[dict] | None = None) -> str:
    ttft, total = median(r["ttft"] for r in results), median(r["total"] for r in results)
    text = f"  {label:<34} first token {ttft:7.1f} ms   total {total:7.1f} ms"
    if base:
        b_ttft, b_total = median(r["ttft"] for r in base), median(r["total"] for r in base)
        text += (f"   ×{ttft / b_ttft:5.2f} / ×{total / b_total:5.2f}   added {ttft - b_ttft:+6.1f} / {total - b_total:+6.1f} ms")
    drafts = [r["advisor"]["draft_ms"] for r in results if r["advisor"] and r["advisor"].get("draft_ms") is not None]
    if drafts:
        text += f"   (draft {statistics.median(drafts):.0f} ms)"
    return text


async def concurrent(url: str, model: str, token: str | None, count: int, max_tokens: int):
    import httpx2

    limits = httpx2.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx2.AsyncClient(timeout=120, limits=limits) as client:
        outcomes = await asyncio.gather(*(one(client, url, model, token, max_tokens) for _ in range(count)), return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    totals = [o["total"] for o in outcomes if not isinstance(o, BaseException)]
    return errors, totals


def watch_rss(pid: int, stop: threading.Event, peak: list):
    import psutil

    process = psutil.Process(pid)
    while not stop.is_set():
        try:
            rss = sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
        except psutil.Error:
            return
        peak[0] = max(peak[0], rss)
        time.sleep(0.05)


async def main_async(args, env, urls, token, gateway_pid):
    import httpx2
    import psutil

    gateway, direct, served = urls["gateway"], urls["direct"], urls["served"]
    async with httpx2.AsyncClient(timeout=120) as client:
        for _ in range(5):  # warm both paths (connections, first imports)
            await one(client, gateway, "fake-fast", token, args.tokens)
            await one(client, direct, "fake", None, args.tokens)
        print(f"1. A plain model, one request at a time ({args.requests} each, alternating; {args.tokens} tokens; ratio / added vs direct)")
        plain = await side_by_side(client, [("direct", direct, "fake", None), ("gateway", gateway, "fake-fast", token)],
                                   args.requests, args.tokens)
        print(row("directly", plain["direct"]))
        print(row("through the gateway", plain["gateway"], plain["direct"]))

        print(f"\n2. A policy ({args.requests} each): the draft decided before the answer streams")
        policy = await side_by_side(client, [("keep", gateway, "policy/keep", token), ("escalate", gateway, "policy/escalate", token)],
                                    args.requests, args.tokens)
        print(row("policy, threshold 0 (draft kept)", policy["keep"], plain["direct"]))
        print(row("policy, threshold 1 (escalated)", policy["escalate"], plain["direct"]))

    print(f"\n3. {args.concurrent} concurrent streaming requests ({args.tokens} tokens each)")
    rss_before = sum(p.memory_info().rss for p in [psutil.Process(gateway_pid), *psutil.Process(gateway_pid).children(recursive=True)])
    d_errors, d_totals = await concurrent(direct, "fake", None, args.concurrent, args.tokens)
    stop, peak = threading.Event(), [rss_before]
    watcher = threading.Thread(target=watch_rss, args=(gateway_pid, stop, peak), daemon=True)
    watcher.start()
    g_errors, g_totals = await concurrent(gateway, "fake-fast", token, args.concurrent, args.tokens)
    stop.set()
    watcher.join()
    for label, errors, totals in (("directly", d_errors, d_totals), ("through the gateway", g_errors, g_totals)):
        text = f"  {label:<22} errors {len(errors):3d}/{args.concurrent}"
        if totals:
            text += f"   total p50 {percentile(totals, 0.5):7.0f} ms   p99 {percentile(totals, 0.99):7.0f} ms"
        print(text + (f"   first error: {errors[0]!r:.120}" if errors else ""))
    if d_totals and g_totals:
        print(f"  p99 added: {percentile(g_totals, 0.99) - percentile(d_totals, 0.99):+.0f} ms; "
              f"gateway process RSS {rss_before / 2**20:.0f} MB before, {peak[0] / 2**20:.0f} MB peak")

    n = max(3, args.requests // 10)
    async with httpx2.AsyncClient(timeout=300) as client:
        await one(client, served, "smollm2-135m-instruct", None, 16)
        print(f"\n4. End to end, the bundled model on ONNX Runtime GenAI as the SLM ({n} each, 16 tokens)")
        bundled = await side_by_side(client, [("direct", served, "smollm2-135m-instruct", None),
                                              ("policy", gateway, "policy/bundled", token)], n, 16)
    print(row("the serving process directly", bundled["direct"]))
    print(row("policy/bundled (threshold 0)", bundled["policy"], bundled["direct"]))
    print("  (a policy streams its draft once it is whole: its first token comes after the draft, by design)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-gateway-"))
    # The prepared bundled model, shared rather than converted again (scripts/test prepares it).
    (scratch / "models").symlink_to((ROOT / "var" / "test" / "models").resolve())
    env = scratch_site(scratch)
    env |= {"GATEWAY_REQUESTS_PER_MINUTE": "1000000", "GATEWAY_DAILY_BUDGET_USD": "1000000", "TRIAL_DAILY_SPEND_CAP_USD": "1000000",
            "OPENAI_MAX_RETRIES": "0"}
    ports = {name: free_port() for name in ("upstream", "upstream2", "gateway", "served")}
    urls = {"direct": f"http://127.0.0.1:{ports['upstream']}/v1/chat/completions",
            "gateway": f"http://127.0.0.1:{ports['gateway']}/v1/chat/completions",
            "served": f"http://127.0.0.1:{ports['served']}/v1/chat/completions"}
    with stopped_on_exit() as processes:
        for name in ("upstream", "upstream2"):
            start(processes, [sys.executable, "benchmarks/_fake_openai_upstream.py", str(ports[name]), str(args.tokens)], env,
                  f"http://127.0.0.1:{ports[name]}/health", "the fake upstream")
        start(processes, [sys.executable, "-m", "advisor.serving", "--port", str(ports["served"])], env,
              f"http://127.0.0.1:{ports['served']}/health", "the model-serving process", timeout=300)
        token = site_rows(env, f"http://127.0.0.1:{ports['upstream']}/v1", f"http://127.0.0.1:{ports['upstream2']}/v1",
                          f"http://127.0.0.1:{ports['served']}/v1")
        gateway = start(processes, [sys.executable, "-m", "uvicorn", "advisor.asgi:application", "--host", "127.0.0.1",
                                    "--port", str(ports["gateway"]), "--no-access-log", "--log-level", "warning"], env,
                        f"http://127.0.0.1:{ports['gateway']}/api/health", "the gateway")
        print(f"Machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (the machine is shared: figures are noisy)\n")
        asyncio.run(main_async(args, env, urls, token, gateway.pid))


if __name__ == "__main__":
    main()
