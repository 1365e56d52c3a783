// `mobilellm bench`: prefill and decode speed of a model file at several
// context depths, with the memory-bandwidth roofline measured in the same run
// over the model's own weights, KV-cache bytes, peak RSS and load time.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <functional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_parallel.h"
#include "cli_common.h"
#include "commands.h"
#include "model/forward.h"
#include "quant/int8_kv_layer.h"
#include "runtime/error.h"
#include "runtime/timer.h"

namespace mobilellm::cli {
namespace {

using nlohmann::json;

using Region = std::span<const uint8_t>;

// The weight bytes one decode step reads: every matrix once (the tied output
// matrix is the embedding; the embedding lookup itself is a single row).
std::vector<Region> decode_weight_regions(const model::Model& model) {
  const auto& w = model.weights();
  std::vector<Region> regions;
  auto add = [&](const model::Linear& m) {
    const uint8_t* data = m.int4() ? m.q.blocks : static_cast<const uint8_t*>(m.f.data);
    regions.emplace_back(data, m.stored_bytes());
  };
  for (const auto& l : w.layers)
    for (const auto* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) add(*m);
  add(w.output);
  return regions;
}

// Read bandwidth over the regions, each split over every thread of the pool;
// the best of `passes`. Reading the model's own weights measures exactly what
// decode must do each token (and faults them in).
double read_bandwidth(ThreadPool& pool, const std::vector<Region>& regions, int passes) {
  std::vector<uint64_t> sums(static_cast<size_t>(pool.size()));
  double bytes = 0;
  for (const Region& r : regions) bytes += static_cast<double>(r.size());
  double best = 0;
  for (int pass = 0; pass < passes; ++pass) {
    Timer timer;
    for (const Region& r : regions) {
      const size_t words = r.size() / sizeof(uint64_t);
      pool.split(static_cast<int64_t>(words), 64, [&](int64_t begin, int64_t end, int thread) {
        uint64_t s[8] = {};  // eight independent sums keep enough loads in flight
        for (int64_t i = begin; i + 8 <= end; i += 8)
          for (int j = 0; j < 8; ++j) {
            uint64_t v;
            std::memcpy(&v, r.data() + 8 * (i + j), 8);
            s[j] += v;
          }
        sums[static_cast<size_t>(thread)] += s[0] ^ s[1] ^ s[2] ^ s[3] ^ s[4] ^ s[5] ^ s[6] ^ s[7];
      });
    }
    best = std::max(best, bytes / timer.seconds() / 1e9);
  }
  return best;
}

// KV bytes one decode step reads at `depth` positions already cached.
double kv_bytes_per_token(const model::ModelConfig& c, int64_t depth) {
  const double row = c.int8_kv_cache ? static_cast<double>(quant::Int8KvLayer::row_bytes(c.num_kv_heads, c.head_dim))
                                     : 2.0 * static_cast<double>(c.kv_dim()) * sizeof(float);
  double total = 0;
  for (const auto& layer : c.layers) {
    int64_t rows = depth + 1;
    if (layer.attention == model::AttentionKind::kSliding) rows = std::min(rows, c.sliding_window);
    if (layer.attention == model::AttentionKind::kChunked) rows = depth % c.attention_chunk_size + 1;
    total += static_cast<double>(rows) * row;
  }
  return total;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0 / 1e6;  // ru_maxrss is in KiB on Linux
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(std::min<int64_t>(vocab, 200000)));
  return ids;
}

// Keys and values for positions [0, depth) written straight into the cache
// (random values, no forward pass): to reach a long context in seconds.
void fill_synthetic(model::KvCache& cache, const model::ModelConfig& c, int64_t depth) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> k(static_cast<size_t>(c.kv_dim())), v(k.size());
  for (int64_t l = 0; l < c.num_layers(); ++l) {
    model::KvCache::Layer& layer = cache.layer(l);
    const bool full = layer.kind == model::AttentionKind::kFull;
    for (int64_t p = full ? 0 : std::max<int64_t>(0, depth - layer.slots); p < depth; ++p) {
      for (auto& x : k) x = normal(rng);
      for (auto& x : v) x = normal(rng);
      const int64_t row = full ? p : p % layer.slots;
      layer.rows->write(row, k.data(), v.data());
    }
  }
  cache.advance(depth);
}

// Mean and sample standard deviation over repetitions, as llama-bench reports them.
struct Stat {
  double mean = 0, stdev = 0;
};

Stat summarize(const std::vector<double>& samples) {
  Stat s;
  if (samples.empty()) return s;
  for (double x : samples) s.mean += x;
  s.mean /= static_cast<double>(samples.size());
  if (samples.size() > 1) {
    double sq = 0;
    for (double x : samples) sq += (x - s.mean) * (x - s.mean);
    s.stdev = std::sqrt(sq / static_cast<double>(samples.size() - 1));
  }
  return s;
}

struct Row {
  std::string label;
  int64_t depth = 0;
  bool synthetic = false;
  double prefill_tok_s = 0, prefill_s = 0;  // 0: no prefill measured
  double prefill_stdev = 0;
  double decode_tok_s = 0, decode_stdev = 0;
  std::vector<double> prefill_samples{}, decode_samples{};  // tok/s of each repetition
  double kv_bytes = 0;
  double roofline_tok_s = 0;
  double draft_pass_cost = 0;  // --draft-max K: a pass of 1 + K tokens (all logits) over a decode step
};

// Speculative decoding's cost model: with each proposed token accepted with
// probability `acceptance` (independently) and K proposed per pass, a pass
// yields (1 − a^(K+1)) / (1 − a) tokens on average; divided by what the pass
// costs in decode steps, the speed-up over plain decoding.
double draft_speedup(double acceptance, int64_t k, double pass_cost) {
  const double tokens = acceptance >= 1 ? static_cast<double>(k + 1)
                                        : (1 - std::pow(acceptance, static_cast<double>(k + 1))) / (1 - acceptance);
  return tokens / pass_cost;
}
constexpr double kDraftAcceptances[] = {0.5, 0.7, 0.9};

std::vector<int64_t> parse_list(const std::string& text, const char* what) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v <= 0) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw Error(std::string(what) + ": \"" + item + "\" is not a positive integer");
    }
  }
  return out;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  struct Options {
    std::string model, prompt = "512,2048,8192", synthetic, parallel;
    int64_t late_prompt = 0;
    int64_t gen = 128;
    int64_t draft_max = 0;
    int64_t batch = model::Forward::kDefaultBatch;
    int threads = 0, reps = 1;
    bool all_global = false, json = false, warmup = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prefill and decode speed, KV-cache size, RSS and load time");
  cmd->add_option(
         "-m,--model", opts->model,
         "Model file (mobilellm convert), checkpoint directory, GGUF file, or Hub model ORG/NAME[:SELECTOR] (docs/HUB.md)")
      ->required();
  add_threads_option(cmd, opts->threads);
  cmd->add_option("--prompt", opts->prompt, "Prompt lengths to prefill, each followed by --gen decode steps");
  cmd->add_option("--gen", opts->gen, "Decode steps per measurement")->check(CLI::PositiveNumber);
  cmd->add_option("-b,--batch", opts->batch, "Prompt tokens per forward pass in prefill")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--synthetic-depth", opts->synthetic,
                  "Context depths to reach by writing random keys/values into the cache (no prefill; flagged)");
  cmd->add_option("-r,--reps", opts->reps, "Repetitions of each measurement, each from a fresh cache (mean, ± stdev)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--draft-max", opts->draft_max,
                  "Also time a speculative-decoding pass of 1 + K tokens (all logits, the cache taken back after) "
                  "against a decode step at each depth, and print the speed-up it gives at acceptance rates 0.5, "
                  "0.7, 0.9 (a measured acceptance rate: run/chat --draft prompt, serve's /metrics)")
      ->check(CLI::Range(int64_t{1}, mobilellm::kMaxDraftTokens));
  cmd->add_flag("--warmup", opts->warmup, "Run each measurement once unmeasured first (as llama-bench does)");
  cmd->add_flag("--all-global", opts->all_global, "Run every layer as a global (full-attention) layer");
  cmd->add_flag("--json", opts->json, "Print one JSON object instead of the table");
  cmd->add_option("--parallel", opts->parallel,
                  "Stream counts N,…: N greedy generations at once through the engine's batched steps (each a "
                  "--prompt-token prompt, the first length given, then --gen tokens; -b tokens of prompt per step); "
                  "prints aggregate tok/s, the gaps between a stream's tokens, and the mean batch");
  cmd->add_option("--late-prompt", opts->late_prompt,
                  "With --parallel: a request with a prompt this long arrives once the streams decode; prints its "
                  "time to first token against an idle engine, and the streams' longest wait meanwhile")
      ->check(CLI::PositiveNumber);
  cmd->callback([opts] {
    if (!opts->parallel.empty()) {
      ParallelBenchOptions p;
      p.model = resolve_model_arg(opts->model);
      p.threads = resolve_threads(opts->threads);
      p.streams = parse_list(opts->parallel, "--parallel");
      const std::vector<int64_t> prompts = parse_list(opts->prompt, "--prompt");
      if (prompts.empty()) throw Error("--prompt: no length");
      p.prompt = prompts.front();
      p.gen = opts->gen;
      p.prefill_chunk = opts->batch;
      p.late_prompt = opts->late_prompt;
      p.json = opts->json;
      if (p.streams.empty()) throw Error("--parallel: no stream count");
      run_parallel_bench(p);
      return;
    }
    if (opts->late_prompt > 0) throw Error("--late-prompt needs --parallel");
    const std::vector<int64_t> prompts = parse_list(opts->prompt, "--prompt");
    const std::vector<int64_t> synthetic = parse_list(opts->synthetic, "--synthetic-depth");
    opts->model = resolve_model_arg(opts->model);
    Timer load_timer;
    auto model = model::Model::load(opts->model, {.all_global = opts->all_global});
    const double load_s = load_timer.seconds();
    const auto& c = model->config();
    ThreadPool pool(resolve_threads(opts->threads));

    const std::vector<Region> regions = decode_weight_regions(*model);
    double weights = 0;
    for (const Region& r : regions) weights += static_cast<double>(r.size());
    const double bandwidth = read_bandwidth(pool, regions, 5);

    int64_t max_depth = 1;
    for (int64_t p : prompts) max_depth = std::max(max_depth, p);
    for (int64_t d : synthetic) max_depth = std::max(max_depth, d);
    const int64_t context = std::min(c.max_position_embeddings, max_depth + opts->gen + opts->draft_max + 1);
    model::Forward forward(*model, pool, opts->batch);
    std::vector<float> logits(static_cast<size_t>(c.vocab_size));
    if (opts->draft_max >= opts->gen) throw Error("--draft-max must be less than --gen");
    if (opts->draft_max + 1 > opts->batch) throw Error("--draft-max + 1 must be at most --batch");
    std::vector<float> draft_logits(static_cast<size_t>((opts->draft_max + 1) * c.vocab_size));

    // Each measurement runs --reps times (after one unmeasured run with
    // --warmup) from a fresh cache: `setup` fills it (prefill or synthetic
    // KV) and returns the seconds to count as prefill (0: none), then decode.
    const std::vector<int32_t> decode_ids = random_tokens(opts->gen, c.vocab_size, 7);
    auto measure = [&](Row& row, const std::function<double(model::KvCache&)>& setup) {
      std::vector<double> prefill_s;
      for (int rep = opts->warmup ? -1 : 0; rep < opts->reps; ++rep) {
        model::KvCache cache(c, context);
        const double seconds = setup(cache);
        // The cache a context of `depth` holds; the no-context row: what its decode wrote.
        const double kv_bytes = static_cast<double>(cache.bytes());
        Timer t;
        for (int32_t id : decode_ids)
          forward.run(cache, std::span<const int32_t>(&id, 1), model::LogitsFor::kLast, logits.data());
        const double decode_s = t.seconds();
        double pass_s = 0;
        if (opts->draft_max > 0) {
          const std::span<const int32_t> pass(decode_ids.data(), static_cast<size_t>(opts->draft_max + 1));
          const int64_t length = cache.size();
          constexpr int kPasses = 8;
          Timer pass_timer;
          for (int i = 0; i < kPasses; ++i) {
            cache.keep_for_rollback(static_cast<int64_t>(pass.size()));
            forward.run(cache, pass, model::LogitsFor::kAll, draft_logits.data());
            cache.truncate(length);
          }
          pass_s = pass_timer.seconds() / kPasses;
        }
        if (rep < 0) continue;
        if (pass_s > 0)
          row.draft_pass_cost += pass_s / (decode_s / static_cast<double>(decode_ids.size())) / opts->reps;
        if (seconds > 0) {
          prefill_s.push_back(seconds);
          row.prefill_samples.push_back(static_cast<double>(row.depth) / seconds);
        }
        row.decode_samples.push_back(static_cast<double>(decode_ids.size()) / decode_s);
        row.kv_bytes = row.depth > 0 ? kv_bytes : static_cast<double>(cache.bytes());
      }
      const Stat prefill = summarize(row.prefill_samples), decode = summarize(row.decode_samples);
      row.prefill_tok_s = prefill.mean;
      row.prefill_stdev = prefill.stdev;
      row.prefill_s = summarize(prefill_s).mean;
      row.decode_tok_s = decode.mean;
      row.decode_stdev = decode.stdev;
      row.roofline_tok_s = bandwidth * 1e9 / (weights + kv_bytes_per_token(c, row.depth + opts->gen / 2));
    };
    std::vector<Row> rows;
    {
      Row row{"no context", 0};
      measure(row, [](model::KvCache&) { return 0.0; });
      rows.push_back(row);
    }
    for (int64_t p : prompts) {
      if (p + opts->gen > c.max_position_embeddings)
        throw Error("--prompt " + std::to_string(p) + " + --gen exceeds the model's context of " +
                    std::to_string(c.max_position_embeddings));
      Row row{std::to_string(p), p};
      const std::vector<int32_t> ids = random_tokens(p, c.vocab_size, static_cast<uint32_t>(p));
      measure(row, [&](model::KvCache& cache) {
        Timer t;
        forward.run(cache, ids, model::LogitsFor::kLast, logits.data());
        return t.seconds();
      });
      rows.push_back(row);
    }
    for (int64_t d : synthetic) {
      if (d + opts->gen > c.max_position_embeddings)
        throw Error("--synthetic-depth " + std::to_string(d) + " + --gen exceeds the model's context of " +
                    std::to_string(c.max_position_embeddings));
      Row row{std::to_string(d) + " (synthetic KV)", d, true};
      measure(row, [&](model::KvCache& cache) {
        fill_synthetic(cache, c, d);
        return 0.0;
      });
      rows.push_back(row);
    }

    const std::string scheme = model->file() ? format::scheme_name(model->file()->index().scheme) : "checkpoint";
    const double rss = peak_rss_mb();
    if (opts->json) {
      json out = {{"model", opts->model},
                  {"scheme", scheme},
                  {"threads", pool.size()},
                  {"batch", opts->batch},
                  {"kernels", kernels::isa_name(quant::quant_kernels().isa)},
                  {"float_kernels", kernels::isa_name(kernels::float_kernels().isa)},
                  {"all_global", opts->all_global},
                  {"reps", opts->reps},
                  {"warmup", opts->warmup},
                  {"load_seconds", load_s},
                  {"bandwidth_gb_s", bandwidth},
                  {"weight_bytes_per_token", weights},
                  {"peak_rss_mb", rss},
                  {"rows", json::array()}};
      for (const Row& r : rows)
        out["rows"].push_back({{"depth", r.depth},
                               {"synthetic_kv", r.synthetic},
                               {"prefill_tokens_per_s", r.prefill_tok_s},
                               {"prefill_tokens_per_s_stdev", r.prefill_stdev},
                               {"prefill_tokens_per_s_samples", r.prefill_samples},
                               {"prefill_seconds", r.prefill_s},
                               {"decode_tokens_per_s", r.decode_tok_s},
                               {"decode_tokens_per_s_stdev", r.decode_stdev},
                               {"decode_tokens_per_s_samples", r.decode_samples},
                               {"roofline_tokens_per_s", r.roofline_tok_s},
                               {"kv_cache_bytes", r.kv_bytes},
                               {"draft_pass_cost", r.draft_pass_cost}});
      if (opts->draft_max > 0) out["draft_max"] = opts->draft_max;
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    std::printf("model      %s (%s%s)\n", opts->model.c_str(), scheme.c_str(),
                opts->all_global ? ", every layer global" : "");
    std::printf("threads    %d, kernels: quantized %s, float %s; prefill batch %lld\n", pool.size(),
                kernels::isa_name(quant::quant_kernels().isa), kernels::isa_name(kernels::float_kernels().isa),
                static_cast<long long>(opts->batch));
    std::printf("load       %.3f s\n", load_s);
    std::printf("bandwidth  %.2f GB/s (reading the weights a decode step reads, in place, best of 5)\n", bandwidth);
    std::printf("weights    %.1f MB read per decoded token\n", weights / 1e6);
    const bool spread = opts->reps > 1;
    if (spread || opts->warmup)
      std::printf("reps       %d per measurement, each from a fresh cache%s; tok/s are means\n", opts->reps,
                  opts->warmup ? ", after one unmeasured warm-up run" : "");
    std::printf("\n%-24s %12s %11s %12s %14s %10s %12s%s\n", "context", "prefill tok/s", "prefill s", "decode tok/s",
                "roofline tok/s", "% roofline", "KV cache MiB", spread ? "  prefill stdev  decode stdev" : "");
    for (const Row& r : rows) {
      char prefill[32] = "-", prefill_s[32] = "-", pct[32] = "-";
      if (r.prefill_s > 0) {
        std::snprintf(prefill, sizeof prefill, "%.1f", r.prefill_tok_s);
        std::snprintf(prefill_s, sizeof prefill_s, "%.2f", r.prefill_s);
      }
      if (r.roofline_tok_s > 0) std::snprintf(pct, sizeof pct, "%.0f %%", 100.0 * r.decode_tok_s / r.roofline_tok_s);
      std::printf("%-24s %12s %11s %12.2f %14.2f %10s %12.2f", r.label.c_str(), prefill, prefill_s, r.decode_tok_s,
                  r.roofline_tok_s, pct, r.kv_bytes / 1048576.0);
      if (spread) {
        if (r.prefill_s > 0)
          std::printf("  %13.1f", r.prefill_stdev);
        else
          std::printf("  %13s", "-");
        std::printf("  %12.2f", r.decode_stdev);
      }
      std::printf("\n");
    }
    if (opts->draft_max > 0) {
      std::printf("\nspeculative decoding, %lld proposed tokens per pass (--draft-max)\n",
                  static_cast<long long>(opts->draft_max));
      std::printf("%-24s %22s %14s %14s %14s\n", "context", "pass cost (decode steps)", "speed-up a=0.5",
                  "speed-up a=0.7", "speed-up a=0.9");
      for (const Row& r : rows) {
        std::printf("%-24s %22.2f", r.label.c_str(), r.draft_pass_cost);
        for (double a : kDraftAcceptances) std::printf(" %14.2f", draft_speedup(a, opts->draft_max, r.draft_pass_cost));
        std::printf("\n");
      }
      std::printf("(a: the chance each proposed token is accepted; tokens per pass (1 - a^(K+1)) / (1 - a))\n");
    }
    std::printf("\npeak RSS   %.0f MB\n", rss);
    if (std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.synthetic; }))
      std::printf("note: rows marked (synthetic KV) filled the cache with random keys and values, no prefill\n");
  });
}

}  // namespace mobilellm::cli
