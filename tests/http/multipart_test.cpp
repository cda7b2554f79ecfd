// Unit tests for the multipart/form-data parser: real client bodies
// (Chromium, curl), the framing corner cases of RFC 2046, every error, and
// the limits.
#include "http/multipart.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace scribepod::http {
namespace {

using namespace std::string_literals;

// Checks that `result` failed with `code` and a message containing `needle`.
template <typename T>
::testing::AssertionResult fails_with(const Result<T>& result, ErrorCode code,
                                      std::string_view needle) {
  if (result.ok()) return ::testing::AssertionFailure() << "expected an error, got success";
  const Error& error = result.error();
  if (error.code != code) {
    return ::testing::AssertionFailure()
           << "code " << error_code_name(error.code) << " != " << error_code_name(code) << " ("
           << error.message << ")";
  }
  if (error.message.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message \"" << error.message << "\" lacks \"" << needle << "\"";
  }
  return ::testing::AssertionSuccess();
}

// A CRLF part: delimiter line, headers, blank line, data (the CRLF that ends
// the data belongs to the next delimiter).
std::string part(std::string_view boundary, std::string_view headers, std::string_view data) {
  return "--" + std::string(boundary) + "\r\n" + std::string(headers) + "\r\n" + std::string(data) +
         "\r\n";
}

std::string field(std::string_view boundary, std::string_view name, std::string_view data) {
  return part(boundary, "Content-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n",
              data);
}

std::string closing(std::string_view boundary) { return "--" + std::string(boundary) + "--\r\n"; }

bool views_into(std::string_view inner, std::string_view outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// ---- multipart_boundary ------------------------------------------------------

TEST(MultipartBoundary, TokenBoundary) {
  auto b = multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundaryx7Yq2");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, "----WebKitFormBoundaryx7Yq2");
}

TEST(MultipartBoundary, QuotedBoundaryMayHoldNonTokenCharacters) {
  auto b = multipart_boundary(R"(multipart/form-data; boundary="a b:c=d/e?(f),g")");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, "a b:c=d/e?(f),g");
}

TEST(MultipartBoundary, QuotedBoundaryBackslashEscapes) {
  auto b = multipart_boundary(R"(multipart/form-data; boundary="a\-b")");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, "a-b");
}

TEST(MultipartBoundary, CaseInsensitiveAndWhitespaceTolerant) {
  auto b = multipart_boundary("  Multipart/Form-Data ;charset=utf-8;  BOUNDARY = xyz  ");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, "xyz");
}

TEST(MultipartBoundary, SeventyCharactersIsTheMaximum) {
  const std::string seventy(70, 'a');
  auto ok = multipart_boundary("multipart/form-data; boundary=" + seventy);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, seventy);
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/form-data; boundary=" + seventy + "a"),
                         ErrorCode::kBadRequest, "1 to 70"));
}

TEST(MultipartBoundary, RejectsOtherMediaTypes) {
  EXPECT_TRUE(fails_with(multipart_boundary("application/json"), ErrorCode::kBadRequest,
                         "must be multipart/form-data"));
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/mixed; boundary=x"), ErrorCode::kBadRequest,
                         "must be multipart/form-data"));
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/form-datax; boundary=x"),
                         ErrorCode::kBadRequest, "must be multipart/form-data"));
  EXPECT_TRUE(fails_with(multipart_boundary(""), ErrorCode::kBadRequest, "multipart/form-data"));
}

TEST(MultipartBoundary, RejectsMissingOrInvalidBoundary) {
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/form-data"), ErrorCode::kBadRequest,
                         "has no boundary"));
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/form-data; charset=utf-8"),
                         ErrorCode::kBadRequest, "has no boundary"));
  EXPECT_TRUE(fails_with(multipart_boundary(R"(multipart/form-data; boundary="")"),
                         ErrorCode::kBadRequest, "1 to 70"));
  EXPECT_TRUE(fails_with(multipart_boundary(R"(multipart/form-data; boundary="a@b")"),
                         ErrorCode::kBadRequest, "character"));
  EXPECT_TRUE(fails_with(multipart_boundary(R"(multipart/form-data; boundary="ab ")"),
                         ErrorCode::kBadRequest, "ends with a space"));
}

TEST(MultipartBoundary, RejectsMalformedParameters) {
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/form-data; boundary=a; boundary=b"),
                         ErrorCode::kBadRequest, "repeats"));
  EXPECT_TRUE(fails_with(multipart_boundary(R"(multipart/form-data; boundary="abc)"),
                         ErrorCode::kBadRequest, "not terminated"));
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/form-data boundary=abc"),
                         ErrorCode::kBadRequest, "expected ';'"));
  EXPECT_TRUE(fails_with(multipart_boundary("multipart/form-data; boundary"),
                         ErrorCode::kBadRequest, "has no value"));
}

// ---- happy paths -------------------------------------------------------------

TEST(ParseMultipart, SingleTextField) {
  const std::string body = field("xyz", "model", "tiny.en") + closing("xyz");
  auto parts = parse_multipart(body, "xyz");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  const MultipartPart& p = (*parts)[0];
  EXPECT_EQ(p.name, "model");
  EXPECT_FALSE(p.filename.has_value());
  EXPECT_EQ(p.content_type, "text/plain");
  EXPECT_EQ(p.data, "tiny.en");
  EXPECT_TRUE(views_into(p.data, body));
}

// What Chromium sends for `fd.append("audio", blob); fd.append("language",
// "en")` with a MediaRecorder blob: the filename is "blob" and the type keeps
// its codecs parameter.
TEST(ParseMultipart, ChromiumFormDataWithOpusBlob) {
  const std::string boundary = "----WebKitFormBoundaryQ1w2E3r4T5y6U7i8";
  const std::string ogg = "OggS\0\x02\0\0\0\0\0\0\0\0\x9a\x1b\r\n\xff"s;
  const std::string body = "--" + boundary +
                           "\r\n"
                           "Content-Disposition: form-data; name=\"audio\"; filename=\"blob\"\r\n"
                           "Content-Type: audio/ogg; codecs=opus\r\n"
                           "\r\n" +
                           ogg + "\r\n--" + boundary +
                           "\r\n"
                           "Content-Disposition: form-data; name=\"language\"\r\n"
                           "\r\n"
                           "en\r\n--" +
                           boundary + "--\r\n";
  auto b = multipart_boundary("multipart/form-data; boundary=" + boundary);
  ASSERT_TRUE(b.ok());
  auto parts = parse_multipart(body, *b);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  const MultipartPart* audio = find_part(*parts, "audio");
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(audio->filename, "blob");
  EXPECT_EQ(audio->content_type, "audio/ogg; codecs=opus");
  EXPECT_EQ(audio->media_type(), "audio/ogg");
  EXPECT_EQ(audio->data, ogg);
  EXPECT_EQ(audio->data.size(), ogg.size());
  const MultipartPart* language = find_part(*parts, "language");
  ASSERT_NE(language, nullptr);
  EXPECT_EQ(language->data, "en");
  EXPECT_EQ(language->media_type(), "text/plain");
}

// What `curl -F file=@clip.wav -F model=base` sends.
TEST(ParseMultipart, CurlStyleBody) {
  const std::string boundary = "------------------------d74496d66958873e";
  const std::string wav = "RIFF\x24\0\0\0WAVEfmt \x10\0\0\0"s;
  const std::string body =
      part(boundary,
           "Content-Disposition: form-data; name=\"file\"; filename=\"clip.wav\"\r\n"
           "Content-Type: audio/x-wav\r\n",
           wav) +
      field(boundary, "model", "base") + closing(boundary);
  auto parts = parse_multipart(body, boundary);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "file");
  EXPECT_EQ((*parts)[0].filename, "clip.wav");
  EXPECT_EQ((*parts)[0].content_type, "audio/x-wav");
  EXPECT_EQ((*parts)[0].data, wav);
  EXPECT_EQ((*parts)[1].name, "model");
  EXPECT_EQ((*parts)[1].data, "base");
}

TEST(ParseMultipart, BinaryDataWithNulsAndLineBreaksIsKeptExactly) {
  std::string data;
  for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
  data += "\r\n\r\n\n\r\0\0--"s;
  const std::string body =
      part("b0undary", "Content-Disposition: form-data; name=f\r\n", data) + closing("b0undary");
  auto parts = parse_multipart(body, "b0undary");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, data);
  EXPECT_TRUE(views_into((*parts)[0].data, body));
}

TEST(ParseMultipart, BoundaryTextInsideDataDoesNotSplit) {
  // None of these is a whole CRLF delimiter followed by CRLF or "--".
  const std::string data =
      "x--bnd--\r\n"      // mid-line
      "\n--bnd\r\n"       // after a bare LF in a CRLF body
      "\r\n--bndX\r\n"    // a longer boundary
      "\r\n--bnd-\r\n"    // a single dash
      "\r\n--bnd x\r\n";  // padding followed by text
  const std::string body =
      part("bnd", "Content-Disposition: form-data; name=f\r\n", data) + closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, data);
}

TEST(ParseMultipart, PreambleAndEpilogueAreIgnored) {
  const std::string body = "This is a preamble.\r\n--bnd is not here\r\n" + field("bnd", "a", "1") +
                           "--bnd--\r\nThis is the epilogue, with --bnd in it.\r\n";
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(ParseMultipart, ClosingDelimiterWithoutTrailingLineBreak) {
  const std::string body = field("bnd", "a", "1") + "--bnd--";
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(ParseMultipart, TransportPaddingAfterDelimiters) {
  const std::string body =
      "--bnd \t\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--bnd  \r\n"
      "Content-Disposition: form-data; name=b\r\n\r\n2\r\n--bnd--  \r\n";
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].data, "1");
  EXPECT_EQ((*parts)[1].data, "2");
}

TEST(ParseMultipart, EmptyValues) {
  const std::string body = field("bnd", "a", "") + field("bnd", "b", "") + closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_TRUE((*parts)[0].data.empty());
  EXPECT_TRUE((*parts)[1].data.empty());
}

TEST(ParseMultipart, EmptyFormHasNoParts) {
  auto parts = parse_multipart("--bnd--\r\n", "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_TRUE(parts->empty());
}

TEST(ParseMultipart, PartWithHeadersOnlyHasEmptyData) {
  // RFC 2046: body-part := MIME-part-headers [CRLF *OCTET].
  const std::string body = "--bnd\r\nContent-Disposition: form-data; name=a\r\n\r\n--bnd--";
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_TRUE((*parts)[0].data.empty());

  // The CRLF that ends the headers also starts a delimiter right after it.
  const std::string two =
      "--bnd\r\nContent-Disposition: form-data; name=a\r\n\r\n--bnd\r\n"
      "Content-Disposition: form-data; name=b\r\n\r\n2\r\n--bnd--";
  auto both = parse_multipart(two, "bnd");
  ASSERT_TRUE(both.ok()) << both.error().message;
  ASSERT_EQ(both->size(), 2u);
  EXPECT_TRUE((*both)[0].data.empty());
  EXPECT_EQ((*both)[1].data, "2");
}

TEST(ParseMultipart, BareLfBodiesAreAccepted) {
  const std::string body =
      "preamble\n--bnd\nContent-Disposition: form-data; name=\"a\"\nContent-Type: text/csv\n\n"
      "x\r\ny\n--bnd\nContent-Disposition: form-data; name=\"b\"\n\n2\n--bnd--\n";
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].content_type, "text/csv");
  EXPECT_EQ((*parts)[0].data, "x\r\ny");
  EXPECT_EQ((*parts)[1].data, "2");
}

TEST(ParseMultipart, LineEndingsDoNotMixWithinABody) {
  // The first delimiter chose CRLF, so the LF-only delimiter is data.
  const std::string body =
      "--bnd\r\nContent-Disposition: form-data; name=a\r\n\r\n1\n--bnd\n2\r\n--bnd--\r\n";
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "1\n--bnd\n2");
}

TEST(ParseMultipart, HeaderNamesAndDispositionTypeAreCaseInsensitive) {
  const std::string body = part("bnd",
                                "content-disposition: Form-Data; NAME=\"a\"; FileName=\"x.ogg\"\r\n"
                                "CONTENT-TYPE:Audio/OGG;codecs=opus\r\n",
                                "d") +
                           closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_EQ((*parts)[0].filename, "x.ogg");
  EXPECT_EQ((*parts)[0].content_type, "audio/ogg; codecs=opus");
  EXPECT_EQ((*parts)[0].media_type(), "audio/ogg");
}

TEST(ParseMultipart, QuotedParametersUnescapeBackslashes) {
  const std::string body =
      part("bnd",
           R"(Content-Disposition: form-data; name="a\"b\\c"; filename="my \"take\".wav")"
           "\r\n",
           "d") +
      closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].name, R"(a"b\c)");
  EXPECT_EQ((*parts)[0].filename, R"(my "take".wav)");
  EXPECT_EQ(find_part(*parts, R"(a"b\c)"), &(*parts)[0]);
}

TEST(ParseMultipart, UnquotedParametersAndExtraParametersAndSemicolons) {
  const std::string body =
      part("bnd", "Content-Disposition: form-data ; ; name=a ; size=12;\r\n", "d") + closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].name, "a");
}

TEST(ParseMultipart, Utf8FilenameSentRawIsKept) {
  const std::string name = "r\xc3\xa9union.ogg";  // Chromium sends UTF-8 bytes as is
  const std::string body = part("bnd",
                                "Content-Disposition: form-data; name=f; filename=\"" + name +
                                    "\"\r\nContent-Type: audio/ogg\r\n",
                                "d") +
                           closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].filename, name);
}

TEST(ParseMultipart, ExtendedFilenameWinsAndIsDecoded) {
  const std::string body =
      part("bnd",
           "Content-Disposition: form-data; name=f; filename=\"fallback.ogg\"; "
           "filename*=UTF-8''r%C3%A9union%201.ogg\r\n",
           "d") +
      part("bnd", "Content-Disposition: form-data; name=g; filename*=iso-8859-1'en'caf%E9\r\n",
           "d") +
      closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].filename, "r\xc3\xa9union 1.ogg");
  EXPECT_EQ((*parts)[1].filename, "caf\xc3\xa9");
}

TEST(ParseMultipart, EmptyFilenameMeansNoFileChosen) {
  const std::string body = part("bnd",
                                "Content-Disposition: form-data; name=f; filename=\"\"\r\n"
                                "Content-Type: application/octet-stream\r\n",
                                "") +
                           closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_TRUE((*parts)[0].filename.has_value());
  EXPECT_EQ(*(*parts)[0].filename, "");
}

TEST(ParseMultipart, UnknownHeadersAreIgnored) {
  const std::string body = part("bnd",
                                "X-Custom: 1\r\n"
                                "Content-Transfer-Encoding: binary\r\n"
                                "Content-Disposition: form-data; name=a\r\n",
                                "d") +
                           closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].data, "d");
}

TEST(ParseMultipart, QuotedBoundaryFromHeaderFramesTheBody) {
  auto b = multipart_boundary(R"(multipart/form-data; boundary="simple boundary:1")");
  ASSERT_TRUE(b.ok());
  const std::string body = field(*b, "a", "1") + closing(*b);
  auto parts = parse_multipart(body, *b);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(FindPart, FirstMatchExactNameOrNull) {
  const std::string body =
      field("bnd", "a", "1") + field("bnd", "a", "2") + field("bnd", "B", "3") + closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_NE(find_part(*parts, "a"), nullptr);
  EXPECT_EQ(find_part(*parts, "a")->data, "1");
  EXPECT_EQ(find_part(*parts, "b"), nullptr);
  EXPECT_EQ(find_part(*parts, "c"), nullptr);
  EXPECT_EQ(find_part({}, "a"), nullptr);
}

// ---- errors ------------------------------------------------------------------

TEST(ParseMultipartErrors, InvalidBoundaryArgument) {
  EXPECT_TRUE(fails_with(parse_multipart("--\r\n", ""), ErrorCode::kBadRequest, "boundary"));
  EXPECT_TRUE(
      fails_with(parse_multipart("x", std::string(71, 'a')), ErrorCode::kBadRequest, "boundary"));
  EXPECT_TRUE(fails_with(parse_multipart("x", "a\r\nb"), ErrorCode::kBadRequest, "boundary"));
}

TEST(ParseMultipartErrors, BodyWithoutBoundary) {
  EXPECT_TRUE(fails_with(parse_multipart("", "bnd"), ErrorCode::kBadRequest,
                         "does not contain its boundary"));
  EXPECT_TRUE(fails_with(parse_multipart("hello world", "bnd"), ErrorCode::kBadRequest,
                         "does not contain its boundary"));
  // Present, but never as a delimiter line.
  EXPECT_TRUE(fails_with(parse_multipart("x--bnd\r\n\r\n--bndy\r\n", "bnd"), ErrorCode::kBadRequest,
                         "does not contain its boundary"));
  EXPECT_TRUE(fails_with(parse_multipart(field("other", "a", "1") + closing("other"), "bnd"),
                         ErrorCode::kBadRequest, "does not contain its boundary"));
}

TEST(ParseMultipartErrors, TruncatedBodies) {
  const std::string full = field("bnd", "a", "1") + closing("bnd");
  // Every strict prefix that still holds the first delimiter line is truncated.
  for (std::size_t n = std::string("--bnd\r\n").size(); n < full.size(); ++n) {
    const std::string prefix = full.substr(0, n);
    if (prefix.find("--bnd--") != std::string::npos) continue;  // complete: the CRLF is optional
    EXPECT_TRUE(fails_with(parse_multipart(prefix, "bnd"), ErrorCode::kBadRequest, "truncated"))
        << "prefix length " << n;
  }
  EXPECT_TRUE(fails_with(parse_multipart(field("bnd", "a", "1"), "bnd"), ErrorCode::kBadRequest,
                         "truncated"));
  EXPECT_TRUE(fails_with(parse_multipart(field("bnd", "a", "1") + "--bnd", "bnd"),
                         ErrorCode::kBadRequest, "truncated"));
}

TEST(ParseMultipartErrors, MissingContentDisposition) {
  const std::string body =
      field("bnd", "a", "1") + part("bnd", "Content-Type: audio/ogg\r\n", "d") + closing("bnd");
  auto parts = parse_multipart(body, "bnd");
  EXPECT_TRUE(fails_with(parts, ErrorCode::kBadRequest,
                         "multipart part 2 has no Content-Disposition header"));
  EXPECT_TRUE(fails_with(parse_multipart("--bnd\r\n\r\ndata\r\n--bnd--", "bnd"),
                         ErrorCode::kBadRequest, "part 1 has no Content-Disposition header"));
}

TEST(ParseMultipartErrors, MissingName) {
  const std::string body = field("bnd", "a", "1") +
                           part("bnd", "Content-Disposition: form-data; filename=\"x\"\r\n", "d") +
                           closing("bnd");
  EXPECT_TRUE(fails_with(parse_multipart(body, "bnd"), ErrorCode::kBadRequest,
                         "multipart part 2 has no Content-Disposition name"));
}

TEST(ParseMultipartErrors, DispositionNotFormData) {
  const std::string body =
      part("bnd", "Content-Disposition: attachment; name=a\r\n", "d") + closing("bnd");
  EXPECT_TRUE(fails_with(parse_multipart(body, "bnd"), ErrorCode::kBadRequest,
                         "\"attachment\" instead of form-data"));
}

TEST(ParseMultipartErrors, RepeatedHeadersOrParameters) {
  const std::string two_dispositions = part("bnd",
                                            "Content-Disposition: form-data; name=a\r\n"
                                            "Content-Disposition: form-data; name=b\r\n",
                                            "d") +
                                       closing("bnd");
  EXPECT_TRUE(fails_with(parse_multipart(two_dispositions, "bnd"), ErrorCode::kBadRequest,
                         "two Content-Disposition headers"));
  const std::string two_types = part("bnd",
                                     "Content-Disposition: form-data; name=a\r\n"
                                     "Content-Type: audio/ogg\r\ncontent-type: text/plain\r\n",
                                     "d") +
                                closing("bnd");
  EXPECT_TRUE(fails_with(parse_multipart(two_types, "bnd"), ErrorCode::kBadRequest,
                         "two Content-Type headers"));
  const std::string two_names =
      part("bnd", "Content-Disposition: form-data; name=a; NAME=b\r\n", "d") + closing("bnd");
  EXPECT_TRUE(fails_with(parse_multipart(two_names, "bnd"), ErrorCode::kBadRequest,
                         "parameter name repeats"));
}

TEST(ParseMultipartErrors, MalformedHeaderLines) {
  const auto with_headers = [](std::string_view headers) {
    return part("bnd", headers, "d") + closing("bnd");
  };
  EXPECT_TRUE(
      fails_with(parse_multipart(with_headers("Content-Disposition form-data; name=a\r\n"), "bnd"),
                 ErrorCode::kBadRequest, "malformed header line"));
  EXPECT_TRUE(fails_with(
      parse_multipart(with_headers("Content-Disposition : form-data; name=a\r\n"), "bnd"),
      ErrorCode::kBadRequest, "malformed header line"));
  EXPECT_TRUE(fails_with(
      parse_multipart(with_headers("Content-Disposition: form-data;\r\n name=a\r\n"), "bnd"),
      ErrorCode::kBadRequest, "folded header line"));
  EXPECT_TRUE(fails_with(
      parse_multipart(with_headers("Content-Disposition: form-data; name=\"a\0b\"\r\n"s), "bnd"),
      ErrorCode::kBadRequest, "control character"));
  EXPECT_TRUE(fails_with(
      parse_multipart(with_headers("Content-Disposition: form-data; name=\"a\nb\"\r\n"), "bnd"),
      ErrorCode::kBadRequest, "control character"));
}

TEST(ParseMultipartErrors, MalformedDispositionParameters) {
  const auto with_disposition = [](std::string_view value) {
    return part("bnd", "Content-Disposition: " + std::string(value) + "\r\n", "d") + closing("bnd");
  };
  EXPECT_TRUE(fails_with(parse_multipart(with_disposition("form-data; name=\"a"), "bnd"),
                         ErrorCode::kBadRequest, "not terminated"));
  EXPECT_TRUE(fails_with(parse_multipart(with_disposition("form-data; name=\"a\\"), "bnd"),
                         ErrorCode::kBadRequest, "not terminated"));
  EXPECT_TRUE(fails_with(parse_multipart(with_disposition("form-data; name="), "bnd"),
                         ErrorCode::kBadRequest, "has no value"));
  EXPECT_TRUE(fails_with(parse_multipart(with_disposition("form-data; name=a b"), "bnd"),
                         ErrorCode::kBadRequest, "expected ';'"));
  EXPECT_TRUE(fails_with(parse_multipart(with_disposition("form-data; =a"), "bnd"),
                         ErrorCode::kBadRequest, "has no name"));
  EXPECT_TRUE(
      fails_with(parse_multipart(with_disposition("form-data; name=a; filename*=x%zz"), "bnd"),
                 ErrorCode::kBadRequest, "filename*"));
  EXPECT_TRUE(
      fails_with(parse_multipart(with_disposition("form-data; name=a; filename*=UTF-8''%4"), "bnd"),
                 ErrorCode::kBadRequest, "filename*"));
  EXPECT_TRUE(
      fails_with(parse_multipart(with_disposition("form-data; name=a; filename*=koi8-r''x"), "bnd"),
                 ErrorCode::kBadRequest, "filename*"));
}

TEST(ParseMultipartErrors, InvalidPartContentType) {
  for (std::string_view type : {"audio", "audio/", "/ogg", "audio/ogg codecs=opus", ""}) {
    const std::string body =
        part(
            "bnd",
            "Content-Disposition: form-data; name=a\r\nContent-Type: " + std::string(type) + "\r\n",
            "d") +
        closing("bnd");
    EXPECT_TRUE(fails_with(parse_multipart(body, "bnd"), ErrorCode::kBadRequest,
                           "multipart part 1 has an invalid Content-Type"))
        << type;
  }
}

TEST(ParseMultipartErrors, NoBlankLineAfterHeaders) {
  const std::string body = "--bnd\r\nContent-Disposition: form-data; name=a\r\ndata\r\n--bnd--";
  EXPECT_TRUE(fails_with(parse_multipart(body, "bnd"), ErrorCode::kBadRequest,
                         "no blank line after its headers"));
}

// ---- limits ------------------------------------------------------------------

TEST(MultipartLimits, PartCount) {
  std::string body;
  for (int i = 0; i < 3; ++i) body += field("bnd", "f" + std::to_string(i), "x");
  body += closing("bnd");
  MultipartLimits limits;
  limits.max_parts = 3;
  EXPECT_TRUE(parse_multipart(body, "bnd", limits).ok());
  limits.max_parts = 2;
  EXPECT_TRUE(fails_with(parse_multipart(body, "bnd", limits), ErrorCode::kPayloadTooLarge,
                         "more than the limit of 2 parts"));
}

TEST(MultipartLimits, DefaultPartCountIs32) {
  std::string body;
  for (int i = 0; i < 33; ++i) body += field("bnd", "f", "");
  body += closing("bnd");
  EXPECT_TRUE(fails_with(parse_multipart(body, "bnd"), ErrorCode::kPayloadTooLarge, "32 parts"));
}

TEST(MultipartLimits, HeaderBytes) {
  const std::string headers = "Content-Disposition: form-data; name=a\r\n";  // + blank line
  const std::string body = part("bnd", headers, "d") + closing("bnd");
  MultipartLimits limits;
  limits.max_part_header_bytes = headers.size() + 2;
  EXPECT_TRUE(parse_multipart(body, "bnd", limits).ok());
  limits.max_part_header_bytes = headers.size() + 1;
  EXPECT_TRUE(fails_with(parse_multipart(body, "bnd", limits), ErrorCode::kPayloadTooLarge,
                         "multipart part 1 has headers over the " +
                             std::to_string(headers.size() + 1) + "-byte limit"));
}

TEST(MultipartLimits, HugeHeaderBlockIsRejectedByDefault) {
  const std::string body =
      part("bnd",
           "Content-Disposition: form-data; name=a\r\nX-Pad: " + std::string(9000, 'p') + "\r\n",
           "d") +
      closing("bnd");
  EXPECT_TRUE(
      fails_with(parse_multipart(body, "bnd"), ErrorCode::kPayloadTooLarge, "8192-byte limit"));
}

TEST(MultipartLimits, PartBytes) {
  const std::string body =
      field("bnd", "a", "12345") + field("bnd", "b", "123456") + closing("bnd");
  MultipartLimits limits;
  limits.max_part_bytes = 6;
  EXPECT_TRUE(parse_multipart(body, "bnd", limits).ok());
  limits.max_part_bytes = 5;
  EXPECT_TRUE(fails_with(parse_multipart(body, "bnd", limits), ErrorCode::kPayloadTooLarge,
                         "multipart part 2 is over the 5-byte limit"));
}

TEST(MultipartLimits, DefaultPartBytesIsTenMebibytes) {
  const std::string big(10 * 1024 * 1024 + 1, 'a');
  const std::string body = field("bnd", "a", big) + closing("bnd");
  EXPECT_TRUE(
      fails_with(parse_multipart(body, "bnd"), ErrorCode::kPayloadTooLarge, "10485760-byte limit"));
  auto ok =
      parse_multipart(field("bnd", "a", std::string_view(big).substr(1)) + closing("bnd"), "bnd");
  EXPECT_TRUE(ok.ok());
}

// ---- cost --------------------------------------------------------------------

// Many near-miss delimiters: a parser that rescanned from the part start after
// each one would be quadratic and time out here.
TEST(MultipartCost, NearMissDelimitersStayLinear) {
  const std::string boundary(70, 'q');
  std::string data;
  for (int i = 0; i < 100000; ++i) data += "\r\n--" + boundary + "X";
  const std::string body = field(boundary, "a", data) + closing(boundary);
  MultipartLimits limits;
  limits.max_part_bytes = data.size();
  auto parts = parse_multipart(body, boundary, limits);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ((*parts)[0].data.size(), data.size());
}

TEST(MultipartCost, ManyParametersStayLinear) {
  std::string headers = "Content-Disposition: form-data; name=a";
  for (int i = 0; i < 2000; ++i) headers += "; p=" + std::to_string(i);
  headers += "\r\n";
  const std::string body = part("bnd", headers, "d") + closing("bnd");
  MultipartLimits limits;
  limits.max_part_header_bytes = 1 << 20;
  EXPECT_TRUE(parse_multipart(body, "bnd", limits).ok());
}

}  // namespace
}  // namespace scribepod::http
