// The public OpenAIResponder (include/mobilellm/openai.h): the server's
// request parsing and answers (server/openai_answer.h) without HTTP.
#include "mobilellm/openai.h"

#include "chat/grammar_constraint.h"
#include "server/api_error.h"
#include "server/openai_answer.h"

namespace mobilellm {

struct OpenAIResponder::Impl {
  std::shared_ptr<Engine> engine;
  chat::SortedVocab vocab;
  std::string model_name;

  server::AnswerContext context(const Session& session) const {
    return {*engine, vocab, model_name, session.context()};
  }
};

namespace {

// Runs one answer (whole or streamed) and turns the server's errors into the
// public ones.
template <typename Answer, typename Parse>
std::string respond(const server::AnswerContext& context, const Parse& parse, Session& session,
                    const ChunkCallback& on_chunk, const std::atomic<bool>* cancel) {
  try {
    Answer answer(context, parse());
    answer.set_cancel(cancel);
    if (!answer.streamed()) return dump_json(answer.whole(session));
    if (!on_chunk) throw InvalidRequest("'stream': true needs a chunk callback", "stream");
    const server::ChunkSink send = [&](const Json& chunk) { return on_chunk(dump_json(chunk)); };
    const GenerateResult result = answer.stream(session, send);
    if (result.finish == FinishReason::kCancelled) return {};
    send(answer.last_chunk(result, send));
    if (const Json usage = answer.usage_chunk(result); !usage.is_null()) send(usage);
    return {};
  } catch (const server::ApiError& e) {
    if (e.status() == 400) throw InvalidRequest(e.what(), e.param());
    throw Error(e.what());
  }
}

}  // namespace

OpenAIResponder::OpenAIResponder(std::shared_ptr<Engine> engine, std::string model_name)
    : impl_(std::make_unique<Impl>(Impl{engine, chat::SortedVocab(engine->tokenizer()), std::move(model_name)})) {}
OpenAIResponder::~OpenAIResponder() = default;

std::string OpenAIResponder::chat_completion(Session& session, const std::string& body, const ChunkCallback& on_chunk,
                                             const std::atomic<bool>* cancel) const {
  const Engine& engine = *impl_->engine;
  return respond<server::ChatAnswer>(
      impl_->context(session),
      [&] { return server::parse_chat_request(server::parse_request_json(body), engine.default_request().sampling); },
      session, on_chunk, cancel);
}

std::string OpenAIResponder::completion(Session& session, const std::string& body, const ChunkCallback& on_chunk,
                                        const std::atomic<bool>* cancel) const {
  const Engine& engine = *impl_->engine;
  return respond<server::CompletionAnswer>(
      impl_->context(session),
      [&] {
        return server::parse_completion_request(server::parse_request_json(body), engine.default_request().sampling,
                                                engine.info().vocab_size);
      },
      session, on_chunk, cancel);
}

}  // namespace mobilellm
