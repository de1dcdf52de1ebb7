from sockviz.cli import main

main()
