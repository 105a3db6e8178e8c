// Opening a post from anywhere (a citation in an answer, a source, a comment group): one
// dialog for the page, and focus goes back to what opened it when it closes.

import { useCallback, useMemo, useRef, useState, type ReactNode } from 'react';
import { PostDialog } from './PostDialog';
import { PostViewerContext, type PostViewer } from './postViewerContext';

interface Props {
  children: ReactNode;
  /** Expert names by id, for the dialog's title. */
  expertNames: Record<string, string>;
}

export function PostViewerProvider({ children, expertNames }: Props) {
  const [target, setTarget] = useState<{ expertId: string; postId: number } | null>(null);
  const trigger = useRef<HTMLElement | null>(null);
  const isOpen = useRef(false);

  const open = useCallback<PostViewer['open']>((expertId, postId, from) => {
    // A link inside the dialog moves it to another post; focus still returns to the first.
    if (!isOpen.current) {
      trigger.current = from ?? (document.activeElement as HTMLElement | null);
      isOpen.current = true;
    }
    setTarget({ expertId, postId });
  }, []);

  const close = useCallback(() => {
    isOpen.current = false;
    setTarget(null);
    const element = trigger.current;
    trigger.current = null;
    // After the dialog is gone from the page.
    window.setTimeout(() => element?.isConnected && element.focus(), 0);
  }, []);

  const nameOf = useCallback((expertId: string) => expertNames[expertId] ?? expertId, [expertNames]);
  const value = useMemo(() => ({ open, nameOf }), [open, nameOf]);
  return (
    <PostViewerContext.Provider value={value}>
      {children}
      {target && (
        <PostDialog
          expertId={target.expertId}
          postId={target.postId}
          expertName={expertNames[target.expertId] ?? target.expertId}
          onClose={close}
        />
      )}
    </PostViewerContext.Provider>
  );
}
