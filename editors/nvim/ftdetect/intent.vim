" Files ending in .intent are Intent sources (for Neovim versions without filetype.lua).
autocmd BufRead,BufNewFile *.intent setfiletype intent
