#!/usr/bin/env python3
# Writes the reference fixtures for the attention-analysis tests (test/fixtures/analysis/*.json) with numpy, scipy
# and networkx: implementations independent of runtime/analysis/*.ts.
#
#   pip install numpy scipy networkx && python3 scripts/make-analysis-fixtures.py
#
#   flow.json       random capacity graphs → networkx.maximum_flow_value; random attention stacks → rollout (numpy
#                   matrix products) and attention flow (networkx max-flow on Abnar & Zuidema's layer graph)
#   agreement.json  random score vectors with ties → scipy.stats.kendalltau (τ-b), scipy.stats.spearmanr, top-k
#                   overlap (sorted by (−score, position))
#   distance.json   random distributions → scipy.spatial.distance.jensenshannon (squared: the divergence), in
#                   base e and 2, and total variation ½·Σ|p − q|
#
# Deterministic: a fixed seed. Attention values are rounded to float32 before anything is computed from them, so
# the TypeScript side (Float32Array) sees exactly the numbers the references were computed from.
import json
import os

import networkx as nx
import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon
from scipy.stats import kendalltau, spearmanr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "analysis")
rng = np.random.default_rng(20240613)


def floats(a):
    return [float(x) for x in np.asarray(a).ravel()]


# ---------------------------------------------------------------- generic max-flow graphs
def random_graph(nodes, density):
    edges = []
    for u in range(nodes):
        for v in range(nodes):
            if u != v and rng.random() < density:
                edges.append([u, v, float(np.round(rng.uniform(0.05, 3.0), 3))])
    return edges


graphs = []
for nodes, density in [(4, 0.6), (5, 0.5), (6, 0.45), (7, 0.4), (8, 0.35), (10, 0.3)]:
    edges = random_graph(nodes, density)
    g = nx.DiGraph()
    g.add_nodes_from(range(nodes))
    for u, v, c in edges:
        g.add_edge(u, v, capacity=c)
    pairs = []
    for s in range(nodes):
        for t in range(nodes):
            if s != t:
                pairs.append([s, t, float(nx.maximum_flow_value(g, s, t))])
    graphs.append({"nodes": nodes, "edges": edges, "flows": pairs})


# ---------------------------------------------------------------- attention stacks
def random_attention(layers, heads, seq, causal):
    logits = rng.normal(0.0, 1.5, size=(layers, heads, seq, seq))
    if causal:
        logits = np.where(np.tril(np.ones((seq, seq), dtype=bool)), logits, -np.inf)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)  # [layers, heads, seq, seq]


def mixed(att_layer, how):
    a = att_layer.astype(np.float64)  # [heads, seq, seq]
    m = a.mean(axis=0) if how == "mean" else a.max(axis=0)
    m = 0.5 * m + 0.5 * np.eye(m.shape[0])
    return m / m.sum(axis=-1, keepdims=True)


def rollout(att, how="mean", start=0):
    r = np.eye(att.shape[-1])
    for l in range(start, att.shape[0]):
        r = mixed(att[l], how) @ r
    return r


def flow(att, target, how="mean", start=0):
    # Abnar & Zuidema's construction (attention_graph_util.py): node (l, i) per layer boundary and token, edges from
    # the upper layer to the lower one with capacity Ã_l[i, j]; flow from (top, target) to each (0, j).
    used = att[start:]
    L, seq = used.shape[0], used.shape[-1]
    g = nx.DiGraph()
    for l in range(1, L + 1):
        m = mixed(used[l - 1], how)
        for i in range(seq):
            for j in range(seq):
                if m[i, j] > 0:
                    g.add_edge((l, i), (l - 1, j), capacity=float(m[i, j]))
    out = []
    for j in range(seq):
        if g.has_node((0, j)) and nx.has_path(g, (L, target), (0, j)):
            out.append(float(nx.maximum_flow_value(g, (L, target), (0, j))))
        else:
            out.append(0.0)
    return out


stacks = []
for layers, heads, seq, causal in [(1, 2, 3, False), (2, 2, 4, False), (3, 3, 5, True), (4, 2, 6, False), (3, 4, 7, True)]:
    att = random_attention(layers, heads, seq, causal)
    stacks.append(
        {
            "layers": layers,
            "heads": heads,
            "seq": seq,
            "causal": causal,
            "data": [floats(att[l]) for l in range(layers)],  # each [heads, seq, seq]
            "rolloutMean": floats(rollout(att)),  # [seq, seq]
            "rolloutMax": floats(rollout(att, "max")),
            "rolloutStart1": floats(rollout(att, "mean", 1)) if layers > 1 else None,
            "flowMean": [flow(att, t) for t in range(seq)],  # [target][seq]
            "flowMaxStart1": [flow(att, t, "max", 1) for t in range(seq)] if layers > 1 else None,
        }
    )

# ---------------------------------------------------------------- agreement
agreement = []
for n, levels in [(5, None), (8, 4), (12, 5), (20, 6), (30, None), (10, 2)]:
    if levels is None:
        a = np.round(rng.normal(size=n), 4)
        b = np.round(a + rng.normal(scale=0.8, size=n), 4)
    else:
        a = rng.integers(0, levels, size=n).astype(float)
        b = rng.integers(0, levels, size=n).astype(float)
    tau = kendalltau(a, b)  # variant 'b' by default
    rho = spearmanr(a, b)
    topk = {}
    for k in [1, 3, 5]:
        ka = sorted(range(n), key=lambda i: (-a[i], i))[:k]
        kb = sorted(range(n), key=lambda i: (-b[i], i))[:k]
        topk[str(k)] = len(set(ka) & set(kb)) / k
    agreement.append(
        {"a": floats(a), "b": floats(b), "kendallTauB": float(tau.statistic), "spearman": float(rho.statistic), "topK": topk}
    )

# ---------------------------------------------------------------- distances
distance = []
for n, zeros in [(3, 0), (5, 1), (8, 2), (16, 0), (32, 5)]:
    p = rng.dirichlet(np.ones(n))
    q = rng.dirichlet(np.ones(n) * 0.5)
    p[rng.choice(n, zeros, replace=False)] = 0.0
    q[rng.choice(n, zeros, replace=False)] = 0.0
    p, q = np.round(p, 6), np.round(q, 6)  # unnormalised after rounding and zeroing: both sides normalise
    pn, qn = p / p.sum(), q / q.sum()
    distance.append(
        {
            "p": floats(p),
            "q": floats(q),
            "jsNats": float(jensenshannon(p, q) ** 2),
            "jsBits": float(jensenshannon(p, q, base=2) ** 2),
            "tv": float(0.5 * np.abs(pn - qn).sum()),
        }
    )

os.makedirs(OUT, exist_ok=True)
versions = {"numpy": np.__version__, "scipy": scipy.__version__, "networkx": nx.__version__}
for name, body in [
    ("flow", {"graphs": graphs, "stacks": stacks}),
    ("agreement", {"cases": agreement}),
    ("distance", {"cases": distance}),
]:
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump({"generator": "scripts/make-analysis-fixtures.py", "versions": versions, **body}, f)
        f.write("\n")
    print(f"wrote {name}.json")
