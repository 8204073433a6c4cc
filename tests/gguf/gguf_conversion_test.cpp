// convert_llama_gguf against independent references:
//  - tests/gguf/fixtures/tiny_llama.gguf, written by gguf-py (llama.cpp's reference
//    writer) with every convertible ggml type, and what transformers' GGUF loading makes
//    of it (tensors, logits, greedy tokens, token ids), made by tests/gguf/make_fixture.py;
//  - stories260K.gguf in the shared data, beside its Hugging Face conversion made by
//    another project (../shared/data/README.md): the tensors and tokenizer must agree.
#include <gtest/gtest.h>

#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/gguf/gguf_file.hpp"
#include "kernels/gguf/llama_gguf_conversion.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/generation.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "tests/model/tiny_checkpoint.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::gguf {
namespace {

namespace fs = std::filesystem;
using model::testing::TemporaryDirectory;

const fs::path kFixtures = fs::path(DCOMP_SOURCE_DIR) / "tests/gguf/fixtures";

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

GgufConversionSummary convert(const fs::path& gguf, const fs::path& folder, at::ScalarType dtype = at::kFloat,
                              uint64_t max_shard_bytes = uint64_t{2} << 30) {
  GgufConversionOptions options;
  options.dtype = dtype;
  options.max_shard_bytes = max_shard_bytes;
  return convert_llama_gguf(*GgufFile::open(gguf), folder, options);
}

TEST(GgufConversion, TensorsEqualTransformersGgufLoadingBitForBit) {
  TemporaryDirectory out("gguf_tensors");
  const auto summary = convert(kFixtures / "tiny_llama.gguf", out.path());
  EXPECT_EQ(summary.tensors, 21);
  EXPECT_FALSE(summary.tied_embeddings);
  for (const char* type : {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1"}) EXPECT_GT(summary.source_types.count(type), 0u) << type;
  const auto reference = io::SafetensorsFile::open(kFixtures / "reference.safetensors");
  const auto converted = io::SafetensorsFile::open(out.path() / "model.safetensors");
  size_t compared = 0;
  for (const auto& name : reference->names()) {
    if (name == "reference.logits") continue;
    ASSERT_TRUE(converted->contains(name)) << name;
    const at::Tensor expected = reference->tensor(name), actual = converted->tensor(name);
    ASSERT_EQ(actual.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(at::equal(actual, expected)) << name << ": max |difference| "
                                             << (actual - expected).abs().max().item<float>();
    ++compared;
  }
  EXPECT_EQ(compared, converted->names().size());
}

TEST(GgufConversion, LogitsGreedyTokensAndTokenIdsMatchTransformers) {
  TemporaryDirectory out("gguf_logits");
  convert(kFixtures / "tiny_llama.gguf", out.path());
  const auto expected = read_json(kFixtures / "reference.json");

  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(out.path());
  const std::vector<int32_t> ids = tokenizer.encode(expected.at("text").get<std::string>());
  EXPECT_EQ(ids, expected.at("ids").get<std::vector<int32_t>>());

  const model::CausalLM lm = model::CausalLM::load(out.path());
  const auto prompt = expected.at("prompt").get<std::vector<int64_t>>();
  const at::Tensor logits = lm.forward(at::tensor(prompt, at::kLong).unsqueeze(0));  // [1, T, 320] fp32
  const at::Tensor reference = io::SafetensorsFile::open(kFixtures / "reference.safetensors")->tensor("reference.logits");
  ASSERT_EQ(logits.sizes(), reference.sizes());
  // Two float32 forwards that sum in different orders: agreement to about 1e-6 of the logit scale.
  const double scale = reference.abs().max().item<double>();
  const double difference = (logits - reference).abs().max().item<double>();
  EXPECT_LT(difference, 2e-6 * scale + 1e-6) << "max |logit difference| " << difference << " at scale " << scale;
  EXPECT_TRUE(at::equal(logits.argmax(-1), reference.argmax(-1)));

  const std::vector<int32_t> prompt32(prompt.begin(), prompt.end());
  const auto generated = model::generate_greedy(lm, prompt32, 8, {});
  const std::vector<int32_t> continuation(generated.begin() + prompt32.size(), generated.end());
  EXPECT_EQ(continuation, expected.at("greedy").get<std::vector<int32_t>>());
}

TEST(GgufConversion, ConfigAndTokenizerFilesDescribeTheModel) {
  TemporaryDirectory out("gguf_config");
  convert(kFixtures / "tiny_llama.gguf", out.path(), at::kBFloat16);
  const auto config = read_json(out.path() / "config.json");
  EXPECT_EQ(config.at("architectures"), nlohmann::json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(config.at("hidden_size"), 64);
  EXPECT_EQ(config.at("num_attention_heads"), 4);
  EXPECT_EQ(config.at("num_key_value_heads"), 2);
  EXPECT_EQ(config.at("intermediate_size"), 96);
  EXPECT_EQ(config.at("vocab_size"), 320);
  EXPECT_EQ(config.at("tie_word_embeddings"), false);
  EXPECT_EQ(config.at("torch_dtype"), "bfloat16");
  EXPECT_FLOAT_EQ(config.at("rms_norm_eps").get<float>(), 1e-5f);
  const auto tokenizer_config = read_json(out.path() / "tokenizer_config.json");
  EXPECT_EQ(tokenizer_config.at("add_bos_token"), false);  // tokenizer.ggml.add_bos_token
  EXPECT_EQ(tokenizer_config.at("bos_token"), "<|im_start|>");
  // The BF16 folder holds the float32 reference rounded to bfloat16, norms included.
  const auto reference = io::SafetensorsFile::open(kFixtures / "reference.safetensors");
  const auto converted = io::SafetensorsFile::open(out.path() / "model.safetensors");
  for (const char* name : {"model.layers.0.self_attn.k_proj.weight", "model.norm.weight", "lm_head.weight"}) {
    const at::Tensor actual = converted->tensor(name);
    EXPECT_EQ(actual.scalar_type(), at::kBFloat16) << name;
    EXPECT_TRUE(at::equal(actual, reference->tensor(name).to(at::kBFloat16))) << name;
  }
}

TEST(GgufConversion, ShardsWithAnIndexHoldTheSameTensors) {
  TemporaryDirectory one("gguf_one"), sharded("gguf_sharded");
  convert(kFixtures / "tiny_llama.gguf", one.path());
  const auto summary = convert(kFixtures / "tiny_llama.gguf", sharded.path(), at::kFloat, 100 * 1024);
  EXPECT_GE(summary.shards, 4);
  EXPECT_TRUE(fs::exists(sharded.path() / "model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(sharded.path() / "model.safetensors"));
  const io::CheckpointReader whole(one.path()), parts(sharded.path());
  ASSERT_EQ(parts.names(), whole.names());
  for (const auto& name : whole.names()) EXPECT_TRUE(at::equal(parts.load(name), whole.load(name))) << name;
}

TEST(GgufConversion, Stories260kEqualsItsIndependentHuggingFaceConversion) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const fs::path reference_dir = data / "stories260k";
  TemporaryDirectory out("gguf_stories");
  convert(reference_dir / "stories260K.gguf", out.path());
  const io::CheckpointReader reference(reference_dir), converted(out.path());
  ASSERT_EQ(converted.names(), reference.names());
  for (const auto& name : reference.names())
    EXPECT_TRUE(at::equal(converted.load(name), reference.load(name))) << name;

  // The SentencePiece merges rebuilt from the scores, the normalizer, decoder and added tokens.
  const auto expected = read_json(reference_dir / "tokenizer.json");
  const auto actual = read_json(out.path() / "tokenizer.json");
  std::vector<std::string> merges;
  for (const auto& pair : actual.at("model").at("merges"))
    merges.push_back(pair.at(0).get<std::string>() + " " + pair.at(1).get<std::string>());
  EXPECT_EQ(merges, expected.at("model").at("merges").get<std::vector<std::string>>());
  EXPECT_EQ(actual.at("model").at("vocab"), expected.at("model").at("vocab"));
  for (const char* key : {"normalizer", "pre_tokenizer", "decoder", "added_tokens", "post_processor"})
    EXPECT_EQ(actual.at(key), expected.at(key)) << key;
  for (const char* key : {"byte_fallback", "fuse_unk", "unk_token"})
    EXPECT_EQ(actual.at("model").at(key), expected.at("model").at(key)) << key;

  // The published greedy sample of this model (../shared/data/README.md; the decoder strips its leading space).
  const model::CausalLM lm = model::CausalLM::load(out.path());
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(out.path());
  const auto tokens = model::generate_greedy(lm, {1}, 40, {2});
  EXPECT_EQ(tokenizer.decode(tokens, true).rfind("Once upon a time, there was a little girl named Lily. She loved", 0), 0u)
      << tokenizer.decode(tokens, true);
}

TEST(GgufFile, MetadataOfTheFixtureReadsAsWritten) {
  const auto file = GgufFile::open(kFixtures / "tiny_llama.gguf");
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->string("general.architecture"), "llama");
  EXPECT_EQ(file->unsigned_integer("llama.block_count"), 2u);
  EXPECT_FLOAT_EQ(static_cast<float>(file->real("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(file->strings("tokenizer.ggml.tokens").size(), 320u);
  EXPECT_FALSE(file->boolean("tokenizer.ggml.add_bos_token"));
  const auto* q = file->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::Q4_0);
  EXPECT_EQ(q->shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(q->bytes, 64u * 64 / 32 * 18);
  EXPECT_THROW(file->string("llama.block_count"), GgufError);
  EXPECT_THROW(file->unsigned_integer("no.such.key"), GgufError);
}

}  // namespace
}  // namespace dcomp::gguf
