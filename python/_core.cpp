// mobilellm._core: the Python package's binding of the public API
// (include/mobilellm). The Python layer (mobilellm/__init__.py) shapes
// arguments into OpenAI request bodies; this module runs them with the GIL
// released, one request at a time per model.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <malloc.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mobilellm/engine.h"
#include "mobilellm/hub.h"
#include "mobilellm/openai.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// What `mobilellm -m` loads for `arg`: a path as it is (a path always wins),
// else a Hub model ORG/NAME[:SELECTOR] from the Hugging Face cache. The
// package does not download: `mobilellm pull` does.
std::string resolve_model(const std::string& arg) {
  if (std::filesystem::exists(arg)) return arg;
  if (auto cached = mobilellm::find_cached_model(arg)) return cached->string();
  if (mobilellm::is_hub_model_name(arg))
    throw mobilellm::Error(arg + ": no such file or directory, and no such model in the Hugging Face cache (" +
                           mobilellm::hub_cache_dir().string() + "); `mobilellm pull " + arg + "` downloads it");
  return arg;
}

// Set from Python (Ctrl-C, a stream the caller abandoned) to stop a request.
struct Cancel {
  std::atomic<bool> flag{false};
};

// A loaded model: the engine, one session (its KV cache) and the OpenAI
// shaping. Requests take turns on the session; close() frees everything.
class Model {
 public:
  Model(const std::string& path, const std::string& tokenizer, int64_t n_ctx, int64_t n_batch, int n_threads,
        bool verify, const std::string& model_name, int64_t draft_max, const std::string& draft_model) {
    nb::gil_scoped_release unlocked;
    engine_ = mobilellm::Engine::load({.model = path,
                                       .tokenizer = tokenizer,
                                       .threads = n_threads,
                                       .verify = verify,
                                       .require_tokenizer = true,
                                       .prefill_chunk = n_batch,
                                       .draft_max = draft_max,
                                       .draft_model = draft_model});
    session_ = engine_->new_session(n_ctx);
    openai_ =
        std::make_unique<mobilellm::OpenAIResponder>(engine_, model_name.empty() ? engine_->info().name : model_name);
  }

  std::vector<int32_t> tokenize(nb::bytes text, bool add_bos, bool special) {
    const std::string_view view(text.c_str(), text.size());
    nb::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> turn(mutex_);
    return engine().tokenizer().encode(view, {.add_bos = add_bos, .parse_special = special});
  }

  nb::bytes detokenize(const std::vector<int32_t>& ids) {
    std::string bytes;
    {
      nb::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> turn(mutex_);
      bytes = engine().tokenizer().decode(ids);
    }
    return nb::bytes(bytes.data(), bytes.size());
  }

  nb::ndarray<nb::numpy, float, nb::ndim<2>> logits(const std::vector<int32_t>& ids) {
    auto* rows = new std::vector<float>();
    nb::capsule owner(rows, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
    int64_t vocab = 0;
    {
      nb::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> turn(mutex_);
      vocab = engine().info().vocab_size;
      *rows = session_->logits(ids);
    }
    return {rows->data(), {ids.size(), static_cast<size_t>(vocab)}, owner};
  }

  // `mobilellm perplexity` on `text`: a dict of the result (mobilellm.Perplexity's
  // fields); nll is [chunks done][scored per chunk]. A text or context the
  // chunks cannot be cut from raises ValueError.
  nb::dict perplexity(nb::bytes text, int64_t context, int64_t chunks, int64_t batch, Cancel& cancel) {
    const std::string_view view(text.c_str(), text.size());
    mobilellm::PerplexityResult result;
    int64_t text_tokens = 0, scored_per_chunk = 0;
    {
      nb::gil_scoped_release unlocked;
      std::lock_guard<std::mutex> turn(mutex_);
      const mobilellm::PerplexityChunks plan = [&] {
        try {
          return engine().perplexity_chunks(view, context, chunks);
        } catch (const mobilellm::Error& e) {
          throw nb::value_error(e.what());
        }
      }();
      result = engine().perplexity(plan, {.batch = batch, .cancel = &cancel.flag});
      text_tokens = plan.text_tokens();
      scored_per_chunk = plan.scored_per_chunk();
    }
    auto* nll = new std::vector<double>(std::move(result.nll));
    nb::capsule owner(nll, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
    const size_t rows = result.running_ppl.size();
    nb::dict out;
    out["ppl"] = result.ppl;
    out["ppl_error"] = result.ppl_error;
    out["running_ppl"] = result.running_ppl;
    out["nll"] =
        nb::ndarray<nb::numpy, double, nb::ndim<2>>(nll->data(), {rows, static_cast<size_t>(scored_per_chunk)}, owner);
    out["n_ctx"] = context;
    out["n_tokens"] = text_tokens;
    out["seconds"] = result.seconds;
    out["cancelled"] = result.cancelled;
    return out;
  }

  // An OpenAI request body in, the response body out (or "" when streamed to `on_chunk`).
  std::string chat_completion(const std::string& body, nb::object on_chunk, Cancel& cancel) {
    return respond(&mobilellm::OpenAIResponder::chat_completion, body, on_chunk, cancel);
  }
  std::string completion(const std::string& body, nb::object on_chunk, Cancel& cancel) {
    return respond(&mobilellm::OpenAIResponder::completion, body, on_chunk, cancel);
  }

  void close() {
    nb::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> turn(mutex_);  // waits for a request in flight
    openai_.reset();
    session_.reset();
    engine_.reset();
#ifdef __GLIBC__
    malloc_trim(0);  // hand the freed heap back to the system, not only to malloc
#endif
  }
  bool closed() const { return engine_ == nullptr; }

  const mobilellm::Engine& engine() const {
    if (!engine_) throw nb::value_error("the model is closed");
    return *engine_;
  }
  int64_t n_ctx() const { return engine_ ? session_->context() : 0; }
  int32_t token_id(bool bos) const {
    const mobilellm::Tokenizer& t = engine().tokenizer();
    return bos ? t.bos_id() : t.eos_id();
  }

 private:
  using Respond = std::string (mobilellm::OpenAIResponder::*)(mobilellm::Session&, const std::string&,
                                                              const mobilellm::ChunkCallback&,
                                                              const std::atomic<bool>*) const;

  std::string respond(Respond method, const std::string& body, nb::object on_chunk, Cancel& cancel) {
    mobilellm::ChunkCallback send;
    if (!on_chunk.is_none())
      send = [&](const std::string& chunk) {
        nb::gil_scoped_acquire locked;
        return nb::cast<bool>(on_chunk(nb::str(chunk.data(), chunk.size())));
      };
    nb::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> turn(mutex_);
    engine();  // not closed
    return ((*openai_).*method)(*session_, body, send, &cancel.flag);
  }

  std::shared_ptr<mobilellm::Engine> engine_;
  std::unique_ptr<mobilellm::Session> session_;
  std::unique_ptr<mobilellm::OpenAIResponder> openai_;
  std::mutex mutex_;
};

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "The compiled core of the mobilellm package; use mobilellm.Model.";
  m.attr("__version__") = MOBILELLM_VERSION;
  static nb::exception<mobilellm::Error> error(m, "Error", PyExc_RuntimeError);
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const mobilellm::InvalidRequest& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const mobilellm::Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  m.def("resolve_model", &resolve_model, "arg"_a);

  nb::class_<Cancel>(m, "Cancel")
      .def(nb::init<>())
      .def("set", [](Cancel& c) { c.flag = true; })
      .def("is_set", [](const Cancel& c) { return c.flag.load(); });

  nb::class_<Model>(m, "Model")
      .def(nb::init<const std::string&, const std::string&, int64_t, int64_t, int, bool, const std::string&, int64_t,
                    const std::string&>(),
           "path"_a, "tokenizer"_a, "n_ctx"_a, "n_batch"_a, "n_threads"_a, "verify"_a, "model_name"_a, "draft_max"_a,
           "draft_model"_a)
      .def("tokenize", &Model::tokenize, "text"_a, "add_bos"_a, "special"_a)
      .def("detokenize", &Model::detokenize, "ids"_a)
      .def("logits", &Model::logits, "ids"_a)
      .def("perplexity", &Model::perplexity, "text"_a, "n_ctx"_a, "n_chunks"_a, "n_batch"_a, "cancel"_a)
      .def("chat_completion", &Model::chat_completion, "body"_a, "on_chunk"_a.none(), "cancel"_a)
      .def("completion", &Model::completion, "body"_a, "on_chunk"_a.none(), "cancel"_a)
      .def("close", &Model::close)
      .def_prop_ro("closed", &Model::closed)
      .def_prop_ro("n_ctx", &Model::n_ctx)
      .def_prop_ro("n_batch", [](const Model& m) { return m.engine().prefill_chunk(); })
      .def_prop_ro("n_vocab", [](const Model& m) { return m.engine().info().vocab_size; })
      .def_prop_ro("n_ctx_train", [](const Model& m) { return m.engine().info().max_context; })
      .def_prop_ro("name", [](const Model& m) { return m.engine().info().name; })
      .def_prop_ro("n_threads", [](const Model& m) { return m.engine().threads(); })
      .def_prop_ro("random_weights", [](const Model& m) { return m.engine().info().random_weights; })
      .def_prop_ro("token_bos", [](const Model& m) { return m.token_id(true); })
      .def_prop_ro("token_eos", [](const Model& m) { return m.token_id(false); });
}
