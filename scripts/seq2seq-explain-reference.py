"""Reference numbers for Explain on encoder-decoder models (test/unit/runtime/explain/seq2seq-explain.test.ts).

Independent of the TypeScript code: Hugging Face transformers runs each model in float64 (eager attention,
teacher forcing exactly as transformers does when given labels: decoder inputs = [decoder_start] + labels[:-1]),
and this file computes, for each target, the target value, leave-one-out and occlusion over the source (tokens
removed from input_ids, or replaced by a given id), raw cross-attention and the encoder-decoder rollout as
ARCHITECTURE.md defines it (numpy, float64).

Run: /work/.venv-ref/bin/python scripts/seq2seq-explain-reference.py
Writes test/fixtures/explain/seq2seq-explain-reference.json.
"""
import json
import os

import numpy as np
import torch
import transformers
from transformers import AutoModelForSeq2SeqLM

ROOT = os.path.join(os.path.dirname(__file__), '..')
MODELS = os.path.join(ROOT, 'test', 'fixtures', 'models')


def load(folder):
    model = AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation='eager')
    return model.double().eval()


def run(model, source, decoder_input):
    with torch.no_grad():
        out = model(
            input_ids=torch.tensor([source]),
            attention_mask=torch.ones(1, len(source), dtype=torch.long),
            decoder_input_ids=torch.tensor([decoder_input]),
            output_attentions=True,
            use_cache=False,
        )
    logp = torch.log_softmax(out.logits[0], dim=-1).numpy()  # [T, V]
    enc = [a[0].numpy() for a in out.encoder_attentions]  # [H, S, S]
    dec = [a[0].numpy() for a in out.decoder_attentions]  # [H, T, T]
    cross = [a[0].numpy() for a in out.cross_attentions]  # [H, T, S]
    return logp, enc, dec, cross


def value(logp, picks, combine):
    vals = [logp[p, t] for p, t in picks]
    return float(vals[0] - vals[1]) if combine == 'difference' else float(sum(vals))


def mixed(a):
    """rownorm(0.5 * mean_heads(a) + 0.5 * I) for a [H, n, n] map."""
    m = 0.5 * a.mean(axis=0) + 0.5 * np.eye(a.shape[1])
    return m / m.sum(axis=1, keepdims=True)


def rollout(enc, dec, cross):
    r_enc = np.eye(enc[0].shape[1])
    for a in enc:
        r_enc = mixed(a) @ r_enc
    T = dec[0].shape[1]
    S = enc[0].shape[1]
    d = np.eye(T)
    x = np.zeros((T, S))
    for self_a, cross_a in zip(dec, cross):
        m = mixed(self_a)
        d, x = m @ d, m @ x
        d, x = 0.5 * d, 0.5 * x + 0.5 * cross_a.mean(axis=0)
    return x @ r_enc  # [T, S]


def weighted(m, rows):
    w = np.array(rows, dtype=np.float64)
    return (w / w.sum()) @ m


def perturbation(model, source, decoder_input, picks, combine, candidates, replace):
    """LOO and occlusion (window 3, stride 1; every covered token gets the mean drop) over the candidates."""
    full = value(run(model, source, decoder_input)[0], picks, combine)

    def without(removed):
        if replace is None:
            ids = [t for j, t in enumerate(source) if j not in removed]
        else:
            ids = [replace if j in removed else t for j, t in enumerate(source)]
        return value(run(model, ids, decoder_input)[0], picks, combine)

    n = len(source)
    loo = [full - without({j}) if candidates[j] else 0.0 for j in range(n)]
    pos = [j for j in range(n) if candidates[j]]
    w = min(3, len(pos))
    starts = list(range(0, len(pos) - w + 1))
    total = np.zeros(n)
    count = np.zeros(n)
    for s in starts:
        removed = pos[s : s + w]
        drop = full - without(set(removed))
        for j in removed:
            total[j] += drop
            count[j] += 1
    occ = [float(total[j] / count[j]) if count[j] else 0.0 for j in range(n)]
    return full, loo, occ


def case(name, folder, source, labels, start, targets, replace, float32_check=False):
    model = load(folder)
    # float32_check: the same perturbations run by transformers in float32, and their largest difference from the
    # float64 numbers: the rounding that a float32 implementation cannot avoid on this model (a test tolerance).
    model32 = AutoModelForSeq2SeqLM.from_pretrained(folder, attn_implementation='eager').float().eval() if float32_check else None
    decoder_input = [start] + labels[:-1]
    logp, enc, dec, cross = run(model, source, decoder_input)
    T, S = len(labels), len(source)
    candidates = [t not in targets['special'] for t in source]
    roll = rollout(enc, dec, cross)
    out = {
        'model': name,
        'source_ids': source,
        'labels': labels,
        'decoder_input_ids': decoder_input,
        'special_ids': sorted(targets['special']),
        'candidates': candidates,
        'target_logprobs': [float(logp[i, t]) for i, t in enumerate(labels)],
        'replace_id': replace,
        'targets': [],
    }
    for spec, row in targets['specs']:
        if spec == 'target':
            picks, combine, rows = [(i, t) for i, t in enumerate(labels)], 'sum', [1] * T
        elif spec.startswith('target:'):
            p = int(spec[7:]) - 1
            picks, combine, rows = [(p, labels[p])], 'sum', [1 if i == p else 0 for i in range(T)]
        else:  # contrast:#A|#B@target:POS
            ab, pos = spec[len('contrast:') :].split('@target:')
            a, b = [int(x[1:]) for x in ab.split('|')]
            p = int(pos) - 1
            picks, combine, rows = [(p, a), (p, b)], 'difference', [1 if i == p else 0 for i in range(T)]
        full, loo, occ = perturbation(model, source, decoder_input, picks, combine, candidates, None)
        _, loo_mask, _ = perturbation(model, source, decoder_input, picks, combine, candidates, replace)
        deviation = None
        if model32 is not None:
            _, loo32, occ32 = perturbation(model32, source, decoder_input, picks, combine, candidates, None)
            _, mask32, _ = perturbation(model32, source, decoder_input, picks, combine, candidates, replace)
            gap = lambda a, b: float(np.max(np.abs(np.array(a) - np.array(b))))
            deviation = {'loo': gap(loo32, loo), 'occlusion': gap(occ32, occ), 'loo_mask_token': gap(mask32, loo_mask)}
        last = len(cross) - 1
        out['targets'].append(
            {
                'spec': spec,
                'value': full,
                'loo': loo,
                'occlusion': occ,
                'loo_mask_token': loo_mask,
                'cross_attention_last_mean': weighted(cross[last].mean(axis=0), rows).tolist(),
                'cross_attention_layer0_head2': weighted(cross[0][2], rows).tolist(),
                'cross_rollout': weighted(roll, rows).tolist(),
                **({'transformers_float32_deviation': deviation} if deviation is not None else {}),
            }
        )
    return out


def main():
    marian_ref = json.load(open(os.path.join(MODELS, 'tiny-marian-dates', 'reference_attention.json')))
    src = marian_ref['source_ids']
    labels = marian_ref['target_ids']
    marian_dir = os.path.join(MODELS, 'tiny-marian-dates')
    # B of the contrast: the second most likely token at target row 0 (after ▁2021).
    logp, _, _, _ = run(load(marian_dir), src, [399] + labels[:-1])
    second = int(np.argsort(-logp[0])[1])
    marian = case(
        'tiny-marian-dates',
        marian_dir,
        src,
        labels,
        399,
        {
            'special': {0, 1, 399},  # </s>, <unk>, <pad>: MarianTokenizer.all_special_ids
            'specs': [('target:1', 0), ('target', None), (f'contrast:#{labels[0]}|#{second}@target:1', 0)],
        },
        1,  # <unk>: Marian has no mask token
    )
    bart_dir = os.path.join(MODELS, 'hf-tiny', 'bart')
    bart_ref = json.load(open(os.path.join(bart_dir, 'reference_attention.json')))
    bart = case(
        'hf-tiny/bart',
        bart_dir,
        bart_ref['input_ids'],
        bart_ref['labels'],
        2,
        {'special': {0, 1, 2, 3, 520}, 'specs': [('target:5', 4), ('target', None)]},  # <s> <pad> </s> <unk> <mask>
        520,  # <mask>
        float32_check=True,
    )
    t5_dir = os.path.join(MODELS, 'hf-tiny', 't5')
    t5_ref = json.load(open(os.path.join(t5_dir, 'reference_attention.json')))
    t5_labels = t5_ref['labels']
    # Target row 9 (labels[9] is '▁n', log p about -9.8). B of the contrast: the most likely token there that is
    # not A. The random weights make every removed token move log p by nats, so float32 rounding shows in the
    # perturbation scores: float32_check measures how much in transformers itself.
    logp, _, _, _ = run(load(t5_dir), t5_ref['input_ids'], [0] + t5_labels[:-1])
    t5_order = [int(i) for i in np.argsort(-logp[9])]
    t5_b = t5_order[1] if t5_order[0] == t5_labels[9] else t5_order[0]
    t5 = case(
        'hf-tiny/t5',
        t5_dir,
        t5_ref['input_ids'],
        t5_labels,
        0,  # decoder_start_token_id (<pad>)
        {
            'special': {0, 1, 2},  # <pad> </s> <unk>: the tokenizer's special tokens
            'specs': [('target:10', 9), ('target', None), (f'contrast:#{t5_labels[9]}|#{t5_b}@target:10', 9)],
        },
        2,  # <unk>: T5 has no mask token
        float32_check=True,
    )
    mbart_dir = os.path.join(MODELS, 'hf-tiny', 'mbart')
    mbart_ref = json.load(open(os.path.join(mbart_dir, 'reference_attention.json')))
    mbart_labels = mbart_ref['labels']
    mbart = case(
        'hf-tiny/mbart',
        mbart_dir,
        mbart_ref['input_ids'],
        mbart_labels,
        mbart_labels[-1],  # mBART's shift_tokens_right: the last label (ro_RO) first
        {'special': {0, 1, 2, 3, 520, 521}, 'specs': [('target:5', 4), ('target', None)]},  # bart's + ro_RO
        520,  # <mask>
    )
    result = {
        'provenance': (
            f'scripts/seq2seq-explain-reference.py; transformers {transformers.__version__}, torch {torch.__version__}, '
            'CPU, float64 (model.double()), eager attention, teacher forcing with decoder_input_ids = [start] + labels[:-1] '
            '(mbart: start = its last label, as its shift_tokens_right does)'
        ),
        'cases': [marian, bart, t5, mbart],
    }
    path = os.path.join(ROOT, 'test', 'fixtures', 'explain', 'seq2seq-explain-reference.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(result, f, indent=1)
    print('wrote', path)


if __name__ == '__main__':
    main()
