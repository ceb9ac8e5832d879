// The --help text of the attention-lens command, kept apart so the parser and the help stay short.
export const USAGE = `attention-lens — show what every layer and head of a Transformer attends to, locally.

Usage:
  attention-lens run --model MODEL (--text TEXT | --file PATH) [options]
  attention-lens export --model MODEL (--text TEXT | --file PATH) --out FILE [export options]
  attention-lens explain --model MODEL (--text TEXT | --file PATH) --target SPEC [explain options]
  attention-lens study --model MODEL --data FILE.jsonl --target SPEC [--out DIR] [explain options]
  attention-lens generate --model MODEL (--text TEXT | --file PATH) [--max-new N] [--temperature T --top-p P
                 --seed S] [--chat] [--out FILE]
  attention-lens --help

Options for run:
  --model MODEL      a Hugging Face model folder (config.json, model.safetensors or pytorch_model.bin,
                     tokenizer.json), an ONNX export (an .onnx file, or a folder with model.onnx or
                     onnx/model.onnx, or encoder_model.onnx + decoder_model.onnx) with its tokenizer,
                     a GGUF file (path/to/model.gguf: llama.cpp's
                     format), an Ollama model ollama:NAME[:TAG] (OLLAMA_MODELS or ~/.ollama/models), or a
                     Hugging Face Hub id owner/name[@revision] (or its page, https://huggingface.co/owner/name
                     [/tree/REVISION]): taken from the Hub cache (HF_HUB_CACHE) or downloaded from HF_ENDPOINT
                     (token: HF_TOKEN, sent only over https or to this machine); HF_HUB_OFFLINE=1 uses the cache only
  --text TEXT        the text to run
  --file PATH        read the text from a file (UTF-8)
  --backend NAME     auto (default: native where it loads, else wasm) | native | wasm
  --threads N        inference threads (default: the cores, at most 4)
  --truncate         cut text longer than the model's positions instead of failing
  --chat             run the text as a user message in the model's chat template (tokenizer_config.json
                     chat_template, chat_template.jinja or the GGUF file's), with the generation prompt; the
                     template's tokens are listed as "template" and are not explanation candidates
  --out FILE.json    write the model facts, tokens and every layer's attention [heads][query][key] as JSON
                     (refused above 1 GB of text, and for runs kept for long inputs: use --out FOLDER/)
  --out FOLDER/      (a path ending in / or an existing folder) write one NPY per layer, float32 [heads, query,
                     key] (encoder–decoders: encoder-NN, decoder-NN, cross-NN [heads, target, source]), streamed
                     by blocks of rows, and attention-lens.json listing the files, tokens and model
  --long MODE        auto (default: keep q and k instead of the maps above 1 GiB of maps) | kept | maps
  --translate        encoder–decoder models (marian, bart, mbart, t5): translate the text greedily (the default for
                     them) and print the translation; layers are encoder, decoder and cross attention
  --beams N          encoder–decoder models: translate by beam search with N beams (default 1, greedy; at most
                     16), as transformers' generate(num_beams=N) with the model's generation_config; the
                     attention shown is a teacher-forced pass on the chosen translation
  --target-text TEXT encoder–decoder models: score TEXT as the target with teacher forcing (decoder inputs =
                     [decoder start] + target[:-1], as transformers with labels); --out adds source_tokens,
                     target_tokens, decoder_input_tokens and target_logprobs
  --source-lang CODE mBART / mBART-50 models: the source text's language, one of the tokenizer's codes (de_DE;
                     default tokenizer_config.json's src_lang)
  --target-lang CODE mBART / mBART-50 models: translate into this language (mBART-50 generates the code first, as
                     generate(forced_bos_token_id=…); mBART starts its decoder with it), or read --target-text as it
  -h, --help         this help

Options for export (also --backend, --threads, --truncate, --chat, --translate, --beams, --target-text,
--source-lang, --target-lang):
  --out FILE         where to write; its extension gives the format unless --format is given
  --format F         png | svg (the view) or json | csv | npy (every layer and head of the run)
  --view V           matrix (default) | grid | head
  --layer L          layer of the matrix or head view (default 0)
  --head H           a head number, or mean (default) | max over heads
  --scale N          PNG pixels per CSS pixel: 1 (default) to 4
  --color-map NAME   viridis (default) | magma | blues | greys
  CSV is long format (layer, head, query, key, weight, token texts); NPY is float32 [layers, heads, query, key].
  Long inputs: matrix PNGs pool to at most 4096 px of cells a side, SVGs to 256 cells (maximum over the tokens
  covered); the image says so.

Options for explain and study (also --backend, --threads, --truncate, --chat, --max-tokens N):
  --target SPEC      the scalar explained: next | next:TOKEN | token:POS:ID (causal LMs: log-probability, in
                     nats and unbounded below; prob:next, prob:next:TOKEN, prob:token:POS:ID: the probability),
                     mask | mask:TOKEN | mask@POS (masked LMs with their head: probability at the [MASK]),
                     similarity:TEXT (any model: cosine of mean-pooled embeddings with TEXT's),
                     contrast:A|B[@POS|@generated:N] (causal LMs: log p(A) − log p(B); A, B: token text or #ID),
                     target | target:POS | contrast:A|B@target:POS (encoder–decoders: log p of the whole target,
                     of target token POS, or A vs B there; scores are over the source tokens)
  --methods LIST     comma-separated (default raw-attention,rollout,loo,norm): raw-attention, rollout, flow,
                     loo, occlusion, norm, norm-rollout, alti (no extra pass), value-zeroing (1 + seq rows),
                     value-zeroing-rollout (1 + layers × seq rows), saliency, grad-x-input,
                     integrated-gradients, attn-x-grad, attnlrp (AttnLRP: the token's logit; llama, qwen3, gpt2,
                     bert, marian, bart, t5 and mbart model types; encoder–decoders: source and target-prefix tokens)
                     (gradient methods: models this tool builds, up to 512 tokens); the uniform-attention
                     baseline is always added
  --perturb MODE     how tokens are removed for loo, occlusion and faithfulness: remove (default: dropped, the
                     text without them) | hide (attention mask 0 in place; position ids follow the model's own
                     rule, so BERT keeps positions while for causal LMs and RoBERTa, whose positions count the
                     unmasked tokens, hide equals remove) | mask-token ([MASK] in place)
  --layer N          layer of raw-attention and norm (default the last); --head N|mean|max (default mean)
  --head-reduce M    mean (default) | max over heads for rollout and flow; --start-layer N (default 0)
  --window N         occlusion window in tokens (default 3); --stride N (default 1)
  --ig-steps N       Integrated Gradients steps (default 32, batched); --ig-baseline zero|pad (default zero:
                     the zero embedding; pad: the pad token's; special tokens stay as they are)
  --topk K           k of the top-k overlap (default 5)
  --percents LIST    faithfulness bins in % of the tokens (default 1,5,10,20,50; AOPC is ERASER's: the sum over
                     the bins ÷ (bins + 1)); --no-faithfulness skips it
  --erasure-steps N  points of the erasure curves (default 10; 0 skips them)
  --include-special  let perturbations remove special tokens ([CLS], <s>) too
  --no-batch         one model call per perturbed input (default: batched)
  --words sum|max    also aggregate every method's token scores to words (the sum or the max of a word's tokens)
  --target-text TEXT explain, encoder–decoders: the target to score (teacher-forced); default: the model's greedy
                     translation (at most --max-new N tokens). Methods there: cross-attention (--layer: the decoder
                     layer), cross-rollout, loo, occlusion, saliency, grad-x-input, integrated-gradients,
                     attn-x-grad (a decoder layer's cross-attention × its gradient), alti (ALTI+: one extra pass),
                     value-zeroing (a decoder layer's cross-attention values, 1 + source rows)
                     (default cross-attention,cross-rollout,loo); --source-lang / --target-lang CODE as for run
  --head-stats       explain: also print per-head statistics
  --long MODE        explain: auto (default: above 1 GiB of maps the run keeps q and k; raw attention, rollout and
                     the head statistics run from them, every other method says its cost and what to do) | kept | maps
  --out FILE.json    explain: write the whole result as JSON
  --data FILE.jsonl  study: one example per line, a JSON string or {"text": …, "target"?: SPEC, "reference"?: TEXT};
                     encoder–decoders: {"text": SOURCE, "target_text"?: TRANSLATION, "target"?: SPEC}, and
                     --target target:each explains every target token of each line in turn
  --limit N          study: only the first N examples
  --randomize-top K  study: the model-randomisation sanity check: every example again with the top K layers
                     re-initialised (seeded; encoder–decoders: the top K of both stacks, the same target tokens);
                     each method's Spearman ρ before vs after
  --reference ID     study: the method others are compared with (default loo when it runs): paired differences of
                     Kendall τ with it, permutation-test p-values (every metric also gets a bootstrap 95 % CI)
  --out DIR          study: write summary.md, summary.json, examples.jsonl and SVG box plots there (a line that
                     cannot be used is reported and skipped; the exit code is then 2, after writing)

Options for generate (causal LMs: a folder or GGUF file; also --backend, --threads, --truncate):
  --max-new N        tokens to generate, 1 to 4096 (default 32); the output stops earlier at an end-of-text or
                     end-of-turn token (EOS, <|im_end|>...)
  --temperature T    0 (default) is greedy; above 0 samples from softmax(logits / T)
  --top-p P          with --temperature: sample from the smallest set of tokens whose probability reaches P
                     (0 < P ≤ 1, default 1)
  --seed S           with --temperature: the sampler's seed (0 to 4294967295; default random), printed so that a
                     run can be repeated
  --layer L, --head H|mean   the attention printed per generated token (default: the last layer, mean of heads):
                     the prompt tokens most attended by the row that wrote the token (the query just before it)
  --out FILE         .json | .csv | .npy: the same layouts as export over prompt + generated tokens (the JSON's
                     source.generated says where the output starts)
  --chat             the text as a user message in the model's chat template; the output stops at the end of the
                     model's turn (--truncate is refused with it)

Input and output (every command):
  --max-input-mb N   read at most N MB of --file or of one --data line (default 1); with --truncate a longer
                     --file is read only up to the limit
  --out never replaces one of the model's own files or the input, nor a folder, device or pipe (/dev/stdout and
  /dev/null are written in place); it is written to a temporary file beside it and renamed into place when
  complete, so a failed or interrupted command leaves what was there before.

Prints the model facts, the tokens with their character offsets, for each layer and head the most-attended key
of every query token with the head's mean entropy (nats), and the timings.
Exit codes: 0 ok, 2 bad input (message on stderr), 1 internal error, 130 interrupted.
`;
