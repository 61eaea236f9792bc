//! `#[ffi_export]`: the only way pssst-ffi can export a function to C.
//!
//! The workspace denies `unsafe_code`, and `#[unsafe(no_mangle)]` is unsafe
//! code, so a hand-written export does not compile. This attribute is the
//! one place that allows it, and it always wraps the function body in
//! `crate::panic::guard`, which turns a panic into the return type's
//! panic value (`PSSST_ERR_PANIC` for results) instead of unwinding into C.
//!
//! cbindgen reads the unexpanded source, so the function must still be
//! written as `#[unsafe(no_mangle)] pub unsafe extern "C" fn ...`; the
//! attribute checks that and leaves the signature untouched.

use proc_macro::{Delimiter, Group, TokenStream, TokenTree};

/// Wraps an `extern "C"` function body in pssst-ffi's panic guard.
#[proc_macro_attribute]
pub fn ffi_export(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return compile_error("#[ffi_export] takes no arguments");
    }
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let body = match tokens.pop() {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => body,
        _ => return compile_error("#[ffi_export] goes on a function with a body"),
    };
    if !has_extern_c(&tokens) {
        return compile_error("#[ffi_export] functions must be `extern \"C\"`");
    }
    if !has_no_mangle(&tokens) {
        return compile_error(
            "#[ffi_export] functions need #[unsafe(no_mangle)] (cbindgen reads it)",
        );
    }

    // `{ crate::panic::guard(move || <body>) }`, keeping the body's own
    // tokens (and spans, so errors and lints point at the real code).
    let mut closure: TokenStream = "move ||".parse().expect("valid closure head");
    closure.extend([TokenTree::Group(body)]);
    let mut guarded_body: TokenStream = "crate::panic::guard".parse().expect("valid path");
    guarded_body.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        closure,
    ))]);

    let mut output: TokenStream = "#[allow(unsafe_code)]".parse().expect("valid attribute");
    output.extend(tokens);
    output.extend([TokenTree::Group(Group::new(Delimiter::Brace, guarded_body))]);
    output
}

fn has_extern_c(tokens: &[TokenTree]) -> bool {
    tokens.windows(2).any(|pair| match pair {
        [TokenTree::Ident(keyword), TokenTree::Literal(abi)] => {
            keyword.to_string() == "extern" && abi.to_string() == "\"C\""
        }
        _ => false,
    })
}

fn has_no_mangle(tokens: &[TokenTree]) -> bool {
    tokens.windows(2).any(|pair| match pair {
        [TokenTree::Punct(hash), TokenTree::Group(attribute)] => {
            hash.as_char() == '#'
                && attribute.delimiter() == Delimiter::Bracket
                && attribute.stream().to_string().replace(' ', "") == "unsafe(no_mangle)"
        }
        _ => false,
    })
}

fn compile_error(message: &str) -> TokenStream {
    format!("compile_error!({message:?});")
        .parse()
        .expect("compile_error! is valid Rust")
}
