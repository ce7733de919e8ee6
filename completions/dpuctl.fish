complete --keep-order --exclusive --command dpuctl --arguments "(COMPLETE=fish dpuctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
