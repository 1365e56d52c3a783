#pragma once
// What a loaded model brings besides its weights: its tokenizer (a checkpoint
// directory's files, or the files a converted model file carries) and whether
// its weights are random (written by `mobilellm make-random`).
#include <filesystem>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace mobilellm {

// True when the checkpoint directory or model file carries tokenizer files.
bool model_has_tokenizer(const model::Model& model);

// The tokenizer at `given` when not empty, else the model's own. Throws Error
// naming the model when it carries none.
Tokenizer load_model_tokenizer(const model::Model& model, const std::filesystem::path& given = {});

bool model_has_random_weights(const model::Model& model);

}  // namespace mobilellm
