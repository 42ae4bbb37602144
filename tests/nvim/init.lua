-- The README's Neovim set-up for 0.7 (Debian's), which later versions also run:
-- `vim.lsp.start_client` + `vim.lsp.buf_attach_client` (`vim.lsp.start` needs 0.8).
-- ALLOY_BIN names the binary (the README uses "alloy" on PATH).
vim.cmd([[autocmd BufRead,BufNewFile *.alloy setfiletype alloy]])
local clients = {} -- one server per directory
vim.api.nvim_create_autocmd("FileType", {
  pattern = "alloy",
  callback = function(ev)
    local root = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(ev.buf), ":p:h")
    if not clients[root] then
      clients[root] = vim.lsp.start_client({
        name = "alloy",
        cmd = { os.getenv("ALLOY_BIN") or "alloy", "lsp" },
        root_dir = root,
        init_options = { stabilityLevel = "generally-available" },
      })
    end
    if clients[root] then
      vim.lsp.buf_attach_client(ev.buf, clients[root])
    end
  end,
})
