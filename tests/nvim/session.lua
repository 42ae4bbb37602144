-- Driven by tests/nvim_e2e.rs: a user's session in headless Neovim. Opens DIR/main.alloy,
-- waits for the server's diagnostics, asks for completion right after a dot in DIR/broken.alloy,
-- formats main.alloy and writes it; the results go to DIR/result.json.
local dir = os.getenv("SESSION_DIR")
local result = {}

local function attached()
  return #vim.lsp.get_active_clients() > 0
end

vim.cmd("edit " .. dir .. "/main.alloy")
result.attached = vim.wait(10000, attached, 20)
result.diagnostics = {}
vim.wait(10000, function() return #vim.diagnostic.get(0) > 0 end, 20)
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(result.diagnostics, { line = d.lnum, col = d.col, message = d.message })
end

-- Completion right after the dot of `traces = [otelcol.]` in a file that does not parse.
vim.cmd("edit " .. dir .. "/broken.alloy")
vim.wait(10000, function() return next(vim.lsp.buf_get_clients(0)) ~= nil end, 20)
local line = vim.fn.search("otelcol\\.]") - 1
local col = vim.fn.getline(line + 1):find("otelcol%.%]") + #"otelcol."
local params = { textDocument = vim.lsp.util.make_text_document_params(), position = { line = line, character = col - 1 } }
local responses = vim.lsp.buf_request_sync(0, "textDocument/completion", params, 10000) or {}
result.completions = {}
for _, r in pairs(responses) do
  local items = r.result and (r.result.items or r.result) or {}
  for _, item in ipairs(items) do
    table.insert(result.completions, item.label)
  end
end

-- Format the first file and save it, as format-on-save does.
vim.cmd("buffer " .. vim.fn.bufnr(dir .. "/main.alloy"))
if vim.lsp.buf.format then
  vim.lsp.buf.format({ timeout_ms = 10000 })
else
  vim.lsp.buf.formatting_sync(nil, 10000)
end
vim.cmd("write")
vim.fn.writefile({ vim.fn.json_encode(result) }, dir .. "/result.json")
vim.cmd("qa!")
