// A pure Nebula handler in C: `GET /hello/{name}` answers with a greeting.
//
// This file is both the demo's C handler (manifests/demo.toml, built by components/hello-c/
// build.sh) and the handler `nebula-host new c NAME` starts from. Build and serve a new project
// with `nebula-host up nebula.toml --build` (build.sh says what it needs).
//
// The types come from wit-bindgen's C generator (build/handler.h). The host calls
// exports_handler_handle with the request; the outcome is written to *ret, and its strings and
// lists must come from malloc: the bindings free them once the host has read them.
//
// A pure handler imports nothing: use wasi-libc's memory, string and math functions, but no
// stdio, time, random or file functions (componentize names any import they leave).
#include <stdlib.h>
#include <string.h>

#include "handler.h"

// The route capture `name`, or NULL.
static const handler_string_t *param(const nebula_pure_types_request_t *request,
                                     const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < request->params.len; i++) {
    const handler_tuple2_string_string_t *pair = &request->params.ptr[i];
    if (pair->f0.len == len && memcmp(pair->f0.ptr, name, len) == 0) {
      return &pair->f1;
    }
  }
  return NULL;
}

// A malloc'ed copy of the concatenation of `count` byte strings.
static handler_list_u8_t concat(const handler_string_t *parts, size_t count) {
  size_t len = 0;
  for (size_t i = 0; i < count; i++) len += parts[i].len;
  uint8_t *bytes = malloc(len ? len : 1);
  if (bytes == NULL) abort();  // a trap: the host answers 500
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    memcpy(bytes + at, parts[i].ptr, parts[i].len);
    at += parts[i].len;
  }
  return (handler_list_u8_t){bytes, len};
}

static handler_string_t text(const char *s) {
  return (handler_string_t){(uint8_t *)s, strlen(s)};
}

void exports_handler_handle(handler_input_t *input, handler_outcome_t *ret) {
  const handler_string_t *name = param(&input->request, "name");
  handler_string_t parts[] = {text("Hello, "), name ? *name : text("world"), text("!\n")};
  handler_list_u8_t body = concat(parts, 3);

  nebula_pure_types_header_t *headers = malloc(sizeof *headers);
  if (headers == NULL) abort();
  handler_string_dup(&headers[0].name, "content-type");
  handler_string_dup(&headers[0].value, "text/plain; charset=utf-8");

  ret->tag = NEBULA_PURE_TYPES_OUTCOME_RESPOND;
  ret->val.respond.f0 = (nebula_pure_types_response_t){
      .status = 200,
      .headers = {headers, 1},
      .body = body,
  };
  ret->val.respond.f1 = (nebula_pure_types_list_write_t){NULL, 0};  // no writes
  handler_input_free(input);
}
