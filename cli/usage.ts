// The --help text of the attention-lens command, kept apart so the parser and the help stay short.
export const USAGE = `attention-lens — show what every layer and head of a Transformer attends to, locally.

Usage:
  attention-lens run --model DIR (--text TEXT | --file PATH) [options]
  attention-lens --help

Options for run:
  --model DIR        Hugging Face model folder (config.json, model.safetensors, tokenizer.json)
  --text TEXT        the text to run
  --file PATH        read the text from a file (UTF-8)
  --backend NAME     auto (default: native where it loads, else wasm) | native | wasm
  --threads N        inference threads (default: the cores, at most 4)
  --truncate         cut text longer than the model's positions instead of failing
  --out FILE.json    write the model facts, tokens and every layer's attention [heads][query][key] as JSON
  -h, --help         this help

Prints the model facts, the tokens with their character offsets, for each layer and head the most-attended key
of every query token with the head's mean entropy (nats), and the timings.
Exit codes: 0 ok, 2 bad input (message on stderr), 1 internal error.
`;
