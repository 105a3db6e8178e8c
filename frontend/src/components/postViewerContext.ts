// The page's post viewer as components reach it, apart from its provider (PostViewer.tsx):
// the provider renders the dialog, whose post renders citations that open posts through this
// context, so in one module the two made an import circle.

import { createContext, useContext } from 'react';

export interface PostViewer {
  open: (expertId: string, postId: number, trigger?: HTMLElement | null) => void;
  /** The expert's name, for a citation that names its expert (the moderator's). */
  nameOf: (expertId: string) => string;
}

export const PostViewerContext = createContext<PostViewer>({ open: () => undefined, nameOf: (id) => id });

export function usePostViewer(): PostViewer {
  return useContext(PostViewerContext);
}
